// kvm->lock taken while kvm->slots_lock is held (locking.rst orders kvm->lock outside
// kvm->slots_lock), on some path (`exists`), with mutex_lock() or guard(mutex)() for either.
// Written for kvmlock's benchmarks (benchmarks/peers/coccinelle.py); not from the kernel.
@r exists@
expression K;
symbol mutex;
position p;
@@
(
mutex_lock(&K->slots_lock);
... when != mutex_unlock(&K->slots_lock)
|
guard(mutex)(&K->slots_lock);
...
)
(
mutex_lock@p(&K->lock)
|
mutex_lock_interruptible@p(&K->lock)
|
mutex_lock_killable@p(&K->lock)
|
guard@p(mutex)(&K->lock)
)

@script:python@
p << r.p;
K << r.K;
@@
print("%s:%s: slots-then-lock: %s->lock taken while %s->slots_lock is held" % (p[0].file, p[0].line, K.replace(" ", ""), K.replace(" ", "")))
