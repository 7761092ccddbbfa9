"""C texts shared by the robustness tests."""

LOCKED_TWICE = (
    "static void f(struct kvm *kvm)\n{\n\tmutex_lock(&kvm->lock);\n"
    "\tmutex_lock(&kvm->lock);\n\tmutex_unlock(&kvm->lock);\n\tmutex_unlock(&kvm->lock);\n}\n"
)
