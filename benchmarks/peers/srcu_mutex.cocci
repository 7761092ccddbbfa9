// A mutex taken inside a kvm->srcu read-side section (srcu_read_lock(&E->srcu) up to the
// matching srcu_read_unlock), on some path (`exists`: also when the lock sits under an `if`).
// Written for kvmlock's benchmarks (benchmarks/peers/coccinelle.py); not from the kernel.
@r exists@
expression E, I, M;
type T;
identifier J;
symbol mutex;
position p;
@@
(
I = srcu_read_lock(&E->srcu);
... when != srcu_read_unlock(&E->srcu, I)
|
T J = srcu_read_lock(&E->srcu);
... when != srcu_read_unlock(&E->srcu, J)
)
(
mutex_lock@p(M)
|
mutex_lock_interruptible@p(M)
|
mutex_lock_killable@p(M)
|
mutex_lock_nested@p(M, ...)
|
guard@p(mutex)(M)
)

@script:python@
p << r.p;
M << r.M;
@@
print("%s:%s: srcu-mutex: %s taken inside a kvm->srcu read-side section" % (p[0].file, p[0].line, M.replace(" ", "")))
