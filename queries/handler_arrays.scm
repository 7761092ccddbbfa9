; `static int (*kvm_vmx_exit_handlers[])(struct kvm_vcpu *) = { [EXIT_REASON_IO] = handle_io, };`
; One match per `[index] = function` member of an array initialiser; the array's name is the
; identifier inside @declarator (kvmlock digs it out of the function/pointer/array wrappers).
(declaration
  declarator: (init_declarator
    declarator: (_) @declarator
    value: (initializer_list
      (initializer_pair
        designator: (subscript_designator)
        value: (identifier) @function))))
