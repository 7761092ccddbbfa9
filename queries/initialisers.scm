; `static const struct mmu_notifier_ops kvm_mmu_notifier_ops = { .invalidate_range_start = f, };`
; and arrays of such structs, `struct S tbl[] = { { .f = a }, [1] = { .f = b } };`.
; One match per initialised declarator of a struct type; kvmlock walks the initialiser list
; (kvmlock/syntax/initialisers.py): a designated field whose value is a bare identifier,
; dropping ALL_CAPS ones (constants, THIS_MODULE). `&name` is left out: in ops tables it
; points at data.
(declaration
  type: (struct_specifier
    name: (type_identifier) @struct)
  declarator: (init_declarator
    declarator: (_) @variable
    value: (initializer_list) @value))
