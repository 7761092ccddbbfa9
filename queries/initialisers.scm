; `static const struct mmu_notifier_ops kvm_mmu_notifier_ops = { .invalidate_range_start = f, };`
; One match per designated field whose value is a bare identifier; kvmlock drops ALL_CAPS
; ones (constants, THIS_MODULE). `&name` is left out: in ops tables it points at data.
(declaration
  type: (struct_specifier
    name: (type_identifier) @struct)
  declarator: (init_declarator
    declarator: (_) @variable
    value: (initializer_list
      (initializer_pair
        designator: (field_designator
          (field_identifier) @field)
        value: (identifier) @function))))
