"""The held-lock dataflow over one function's syntax tree.

The walker interprets statements in order, carrying a `State` along each path: branches are
walked separately and joined, loops run to a bounded fixpoint, gotos deliver their state to the
label, breaks and continues to their loop or switch. Every lock event (acquire, release, sync,
return) is handed to an `EventSink` together with the state at that point; the sink holds all
rule knowledge. Findings are only produced on the final pass over each loop and over the
function, when the states are the fixpoint ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from tree_sitter import Node

from kvmlock.analysis.lockapi import ApiEntry, LockApi
from kvmlock.analysis.lockexpr import LockRef, Scope, strip, strip_parens
from kvmlock.analysis.observations import CallEffect, Hold, instance_at_call, parameter_of
from kvmlock.analysis.state import NO_FACTS, Fact, Held, Origin, State, join, join_all, same
from kvmlock.rules.classes import canonical, join_field

MAX_LOOP_ROUNDS = 3
MAX_FUNCTION_PASSES = 3
STEP_BUDGET = 400_000

_NORETURN = frozenset({"BUG", "panic", "do_exit", "kvm_spurious_fault", "__builtin_unreachable"})
_TRANSPARENT = frozenset(
    {"likely", "unlikely", "WARN_ON", "WARN_ON_ONCE", "KVM_BUG_ON", "WARN", "WARN_ONCE"}
)
_GUARD_MAKERS = frozenset({"guard", "ACQUIRE", "CLASS"})
_SCOPED_GUARDS = frozenset({"scoped_guard", "scoped_cond_guard"})
_PREPROC_BRANCHES = frozenset(
    {"preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif", "preproc_elifdef"}
)
# Expressions that cannot contain a call, an assignment or an increment: `expr` leaves them.
_INERT = frozenset(
    {
        "identifier",
        "field_identifier",
        "number_literal",
        "string_literal",
        "char_literal",
        "concatenated_string",
        "true",
        "false",
        "null",
        "comment",
    }
)
_ERRNO = re.compile(r"^-\s*E[A-Z0-9]+$|^-\s*\d+$")
_CONSTANT_NAME = re.compile(r"[A-Z][A-Z0-9_]*")  # KVM_MAX_VCPUS, EINVAL: not a variable
# Condition nodes a fact may be made of: the function's variables, constants and operators.
_FACT_NODES = frozenset(
    {
        "identifier",
        "number_literal",
        "char_literal",
        "true",
        "false",
        "null",
        "parenthesized_expression",
        "unary_expression",
        "binary_expression",
    }
)
_CONSTANT_NODES = frozenset(
    {
        "number_literal",
        "true",
        "false",
        "null",
        "identifier",
        "unary_expression",
        "parenthesized_expression",
    }
)
# Macros that assign a variable passed as a plain argument (`get_user(x, p)`); calls spelt
# in capitals (WRITE_ONCE) and *_irqsave are taken to as well.
_ASSIGNING_MACROS = frozenset(
    {
        b"get_user",
        b"__get_user",
        b"unsafe_get_user",
        b"rdmsr",
        b"rdmsrl",
        b"rdmsrq",
        b"rdtscll",
        b"do_div",
        b"swap",
        b"local_irq_save",
        b"local_save_flags",
        b"raw_local_irq_save",
        b"raw_local_save_flags",
        b"rcu_assign_pointer",
        b"smp_store_release",
        b"smp_store_mb",
        b"xchg",
        b"cmpxchg",
    }
)
_CONSTANT_BYTES = re.compile(rb"[A-Z][A-Z0-9_]*")
_WORD = re.compile(rb"[A-Za-z_]\w*")


class GiveUp(Exception):
    """The function is too large or too deep to analyse within the budget."""


class EventSink(Protocol):
    def acquire(self, state: State, ref: LockRef, kind: str, node: Node, nested: bool) -> None: ...

    def release(self, state: State, ref: LockRef, node: Node, in_loop: bool) -> None: ...

    def sync(self, state: State, ref: LockRef, node: Node) -> None: ...

    def returned(self, state: State, node: Node, kind: str, variable: str | None) -> None: ...

    def assertion(self, state: State, ref: LockRef, node: Node) -> None: ...

    def call(
        self,
        state: State,
        node: Node,
        callee: str,
        arguments: tuple[str, ...],
        argument_classes: tuple[str | None, ...],
        base_struct: str = "",
    ) -> None: ...

    def reset(self) -> None: ...


@dataclass
class _Jump:
    """Where breaks and continues of one loop or switch go."""

    is_loop: bool
    scope: tuple[int, int]
    breaks: list[State] = field(default_factory=list)
    continues: list[State] = field(default_factory=list)
    released: set[str] = field(default_factory=set)  # instances released in the body


class FunctionWalker:
    def __init__(
        self,
        *,
        text: bytes,
        source: bytes,
        api: LockApi,
        sink: EventSink,
        line_of: Callable[[int], int],
        lock_kind_hint: Callable[[str], str],
        call_effects: Mapping[str, CallEffect] | None = None,
    ) -> None:
        self.text = text  # the rewritten buffer the tree was parsed from
        self.source = source  # the original buffer: macro names live here
        self.api = api
        self.sink = sink
        self.line_of = line_of
        self.kind_hint = lock_kind_hint
        self.call_effects = call_effects or {}
        self.start = 0  # the function body's first byte (see _tag)
        self.scope = Scope(text)
        self.reporting = True
        self.steps = 0
        self.jumps: list[_Jump] = []
        self.pending: dict[str, State] = {}
        self.seeds: dict[str, State] = {}
        self.backward: dict[str, State] = {}
        self.labels_seen: set[str] = set()
        # Names assigned so far in this pass, in order: whether a branch wrote a variable
        # its condition mentions (`if (!locked) { locked = true; lock(l); }` is no
        # `if (c) lock(l);`).
        self.assigned: list[str] = []
        self.declared: list[str] = []  # names declared in the blocks being walked, in order
        # condition node → (test, truth of the node when the test is true, variables) or None
        self.fact_tests: dict[int, tuple[str, bool, tuple[str, ...]] | None] = {}

    # --- entry point --------------------------------------------------------------------

    def _tag(self, node: Node) -> int:
        """A node's place for instance names (`v->mutex#<tag>`): its offset in the function,
        so the names stay the same when text above the function moves it."""
        return node.start_byte - self.start

    def run(self, parameters: list[Node], body: Node, entry: State) -> None:
        self.start = body.start_byte
        for param in parameters:
            self.scope.declare(param)
        for attempt in range(MAX_FUNCTION_PASSES):
            self.sink.reset()
            self.pending, self.backward, self.labels_seen = {}, {}, set()
            self.jumps = []
            self.assigned = []
            self.declared = []
            end = self.stmt(body, entry)
            if end is not None:
                closing = body.children[-1] if body.child_count else body
                self._report_return(end, closing, "void")
            grown = False
            for label, state in self.backward.items():
                merged = join(self.seeds.get(label), state)
                if not same(merged, self.seeds.get(label)):
                    if attempt == MAX_FUNCTION_PASSES - 2 and merged is not None:
                        # The last pass may not see every path into the label: what is
                        # known about variables there must not cut any off.
                        merged = merged.without_facts()
                    self.seeds[label] = merged  # type: ignore[assignment]
                    grown = True
            if not grown:
                return

    # --- statements ---------------------------------------------------------------------

    def stmt(self, node: Node, state: State | None) -> State | None:
        self.steps += 1
        if self.steps > STEP_BUDGET:
            raise GiveUp(f"more than {STEP_BUDGET} analysis steps")
        kind = node.type
        if kind == "labeled_statement":
            return self._label(node, state)
        if kind == "compound_statement":
            return self._block(node, state)
        if state is None:
            return self._unreachable(node)
        handler = _STATEMENTS.get(kind)
        if handler is not None:
            return handler(self, node, state)
        if kind.startswith("preproc_"):
            return self._preproc(node, state)
        if kind in ("comment", ";", "{", "}"):
            return state
        return self.expr(node, state)

    def _unreachable(self, node: Node) -> None:
        # Labels inside dead code can still be reached by a goto.
        for child in node.named_children:
            if child.type in ("labeled_statement", "compound_statement"):
                self.stmt(child, None)
        return None

    def _block(self, node: Node, state: State | None) -> State | None:
        mark = len(self.declared)
        for child in node.named_children:
            state = self.stmt(child, state)
        if len(self.declared) > mark:
            state = self._out_of_scope(state, mark)
        return _drop_guards(state, node.start_byte, node.end_byte)

    def _out_of_scope(self, state: State | None, mark: int) -> State | None:
        """Variables declared since `mark` of the declaration log end here: what is known of
        them must not pass for a variable of the same name outside (a shadowed one)."""
        if state is not None and _has_facts(state):
            for name in self.declared[mark:]:
                state = state.forget_facts(name)
        del self.declared[mark:]
        return state

    def _expression_statement(self, node: Node, state: State) -> State | None:
        for child in node.named_children:
            state = self.expr(child, state)
            if state is None:
                return None
        return state

    def _declaration(self, node: Node, state: State) -> State | None:
        self.declared.extend(self.scope.declare(node))
        for declarator in node.children_by_field_name("declarator"):
            if declarator.type != "init_declarator":
                if _has_facts(state):
                    name = _declared_name_of(declarator)
                    if name is not None:
                        state = state.forget_facts(name)  # a new variable (in a loop: again)
                continue
            value = declarator.child_by_field_name("value")
            target = declarator.child_by_field_name("declarator")
            if value is None:
                continue
            name = _plain_name(target, self.text)
            state = self._assign(name, value, state)
            if state is None:
                return None
        return state

    def _if(self, node: Node, state: State) -> State | None:
        macro = _macro_name(self.source, node)
        if macro in _SCOPED_GUARDS:
            return self._scoped_guard(node, state, macro)
        condition = node.child_by_field_name("condition")
        then, otherwise = self.cond(condition, state)
        consequence = node.child_by_field_name("consequence")
        alternative = node.child_by_field_name("alternative")
        mark = len(self.assigned)
        then_end = self.stmt(consequence, then) if consequence is not None else then
        middle = len(self.assigned)
        branch = None
        if alternative is not None and alternative.named_child_count:
            branch = alternative.named_children[0]
        else_end = self.stmt(branch, otherwise) if branch is not None else otherwise
        mark_then = then_end is not None and _takes_new(then_end, state)
        mark_else = else_end is not None and branch is not None and _takes_new(else_end, state)
        key = self._pure_condition(condition) if mark_then or mark_else else None
        if key is not None:
            # A branch that writes a variable of the condition changes what it says.
            if mark_then and not self._writes(key, mark, middle):
                then_end = _mark_conditional(then_end, state, key)  # type: ignore[arg-type]
            if mark_else and not self._writes(key, middle, len(self.assigned)):
                else_end = _mark_conditional(else_end, state, "!" + key)  # type: ignore[arg-type]
        return join(then_end, else_end)

    def _writes(self, key: str, start: int, end: int) -> bool:
        """Whether a name assigned between positions `start` and `end` of the log is in `key`."""
        return any(_names(key, name) for name in set(self.assigned[start:end]))

    def _scoped_guard(self, node: Node, state: State, macro: str) -> State | None:
        condition = node.child_by_field_name("condition")
        body = node.child_by_field_name("consequence")
        args = _comma_items(condition)
        guard_type = self.scope.node_text(args[0]) if args else ""
        lock_node = args[-1] if len(args) >= 2 else None
        entry = self.api.guards.get(guard_type)
        inside = state
        fail = None
        if macro == "scoped_cond_guard":
            fail = self._cond_guard_failure(node, state)
        if entry is not None and lock_node is not None and body is not None:
            ref = self._guard_ref(entry.lock_class, lock_node)
            if ref is not None:
                inside = self._take(
                    state, ref, entry.kind, node, nested=False, origin=Origin.GUARD,
                    scope=(body.start_byte, body.end_byte),
                )
        end = self.stmt(body, inside) if body is not None else inside
        end = _drop_guards(end, node.start_byte, node.end_byte)
        return join(end, fail)

    def _cond_guard_failure(self, node: Node, state: State) -> State | None:
        """scoped_cond_guard's middle argument runs when the lock was not taken."""
        original = self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")
        parts = original.split(",", 2)
        failure = parts[1].strip() if len(parts) == 3 else ""
        if failure.startswith("return"):
            if self.reporting:
                kind = _classify_text(failure[6:].strip(), state)
                self.sink.returned(state, node, kind, None)
            return None
        if failure.startswith("goto"):
            self._goto_label(failure[4:].strip().rstrip(";").strip(), state)
            return None
        return state

    def _while(self, node: Node, state: State) -> State | None:
        macro = _macro_name(self.source, node)
        condition = node.child_by_field_name("condition")
        body = node.child_by_field_name("body")
        if macro is not None and macro != "while":
            items = _comma_items(condition)
            # The last argument is the collection walked; the others are the cursors.
            cursors = items if len(items) == 1 else items[:-1]
            variables = [self.scope.node_text(i) for i in cursors if i.type == "identifier"]
            return self._loop(node, state, None, body, None, loop_vars=variables, macro=True)
        return self._loop(node, state, condition, body, None)

    def _for(self, node: Node, state: State) -> State | None:
        init = node.child_by_field_name("initializer")
        mark = len(self.declared)
        if init is not None:
            state = self.stmt(init, state) if init.type == "declaration" else self.expr(init, state)
            if state is None:
                return None
        condition = node.child_by_field_name("condition")
        body = node.child_by_field_name("body")
        update = node.child_by_field_name("update")
        end = self._loop(
            node,
            state,
            condition,
            body,
            update,
            forever_if_no_condition=True,
            index_vars=self._index_vars(condition, body, update),
        )
        return self._out_of_scope(end, mark) if len(self.declared) > mark else end

    def _index_vars(
        self, condition: Node | None, body: Node | None, update: Node | None
    ) -> list[str]:
        """`for (i = 0; i < n; i++) { v = kvm_get_vcpu(kvm, i); mutex_lock(&v->mutex); }`:
        the index, and the variables the body points at element i with (a walk over a
        collection, like kvm_for_each_vcpu)."""
        if condition is None or update is None:
            return []
        index = None
        if update.type == "update_expression":
            index = _plain_name(update.child_by_field_name("argument"), self.text)
        elif update.type == "assignment_expression":
            index = _plain_name(update.child_by_field_name("left"), self.text)
        if index is None or not _names(self.scope.node_text(condition), index):
            return []
        names = [index]
        for statement in body.named_children if body is not None else ():
            pairs = []
            if statement.type == "expression_statement" and statement.named_child_count:
                assign = statement.named_children[0]
                if assign.type == "assignment_expression":
                    pairs.append(
                        (assign.child_by_field_name("left"), assign.child_by_field_name("right"))
                    )
            elif statement.type == "declaration":
                for part in statement.children_by_field_name("declarator"):
                    if part.type == "init_declarator":
                        target = part.child_by_field_name("declarator")
                        while target is not None and target.type == "pointer_declarator":
                            target = target.child_by_field_name("declarator")
                        pairs.append((target, part.child_by_field_name("value")))
            for left, right in pairs:
                name = _plain_name(left, self.text)
                if name and right is not None and _names(self.scope.node_text(right), index):
                    names.append(name)
        return names

    def _do(self, node: Node, state: State) -> State | None:
        return self._loop(
            node,
            state,
            node.child_by_field_name("condition"),
            node.child_by_field_name("body"),
            None,
            do_while=True,
        )

    def _loop(
        self,
        node: Node,
        state: State,
        condition: Node | None,
        body: Node | None,
        update: Node | None,
        *,
        loop_vars: list[str] | None = None,
        macro: bool = False,
        do_while: bool = False,
        forever_if_no_condition: bool = False,
        index_vars: list[str] | None = None,
    ) -> State | None:
        saved = self.reporting
        self.reporting = False
        head = state
        for _ in range(MAX_LOOP_ROUNDS):
            _, back = self._loop_once(
                node, head, condition, body, update, loop_vars, macro, do_while,
                forever_if_no_condition, index_vars,
            )
            widened = join(state, back)
            if same(widened, head):
                break
            head = widened  # type: ignore[assignment]
        else:
            # Not settled: a fact of the last round's head may not hold on later iterations.
            head = head.without_facts()
        self.reporting = saved
        exit_state, _ = self._loop_once(
            node, head, condition, body, update, loop_vars, macro, do_while,
            forever_if_no_condition, index_vars,
        )
        return exit_state

    def _loop_once(
        self,
        node: Node,
        head: State,
        condition: Node | None,
        body: Node | None,
        update: Node | None,
        loop_vars: list[str] | None,
        macro: bool,
        do_while: bool,
        forever_if_no_condition: bool,
        index_vars: list[str] | None = None,
    ) -> tuple[State | None, State | None]:
        jump = _Jump(is_loop=True, scope=(node.start_byte, node.end_byte))
        self.jumps.append(jump)
        try:
            entry: State | None = head
            for name in loop_vars or ():
                entry = head.forget_variable(name).rename_instances_of(name, self._tag(node))
                head = entry
                self.assigned.append(name)
            if do_while:
                body_end = self.stmt(body, entry) if body is not None else entry
                after = join_all([body_end, *jump.continues])
                if after is not None and update is not None:
                    after = self.expr(update, after)
                if _is_false(condition, self.text):
                    return join_all([after, *jump.breaks]), None
                again, leave = self.cond(condition, after) if after is not None else (None, None)
                return join_all([leave, *jump.breaks]), again
            if macro:
                taken, leave = entry, entry
            elif condition is None:
                taken, leave = entry, (None if forever_if_no_condition else entry)
            elif _is_true(condition, self.text):
                taken, leave = self.cond(condition, entry)[0], None
            else:
                taken, leave = self.cond(condition, entry)
            body_end = self.stmt(body, taken) if body is not None and taken is not None else taken
            after = join_all([body_end, *jump.continues])
            if after is not None and update is not None:
                after = self.expr(update, after)
            exit_state = join_all([leave, *jump.breaks])
            if macro and loop_vars:
                exit_state = _whole_collection(exit_state, after, jump.released, loop_vars)
            elif index_vars:
                exit_state = _whole_collection(
                    exit_state, after, jump.released, index_vars, named_only=True
                )
            inside = (node.start_byte, node.end_byte)
            return _drop_guards(exit_state, *inside), after
        finally:
            self.jumps.pop()

    def _switch(self, node: Node, state: State) -> State | None:
        condition = node.child_by_field_name("condition")
        entry = self.expr(condition, state) if condition is not None else state
        body = node.child_by_field_name("body")
        if entry is None or body is None:
            return entry
        jump = _Jump(is_loop=False, scope=(node.start_byte, node.end_byte))
        self.jumps.append(jump)
        current: State | None = None
        has_default = False
        try:
            for child in body.named_children:
                if child.type == "case_statement":
                    value = child.child_by_field_name("value")
                    has_default |= value is None
                    current = join(current, entry)
                    for part in child.named_children:
                        if value is not None and part.id == value.id:
                            continue
                        current = self.stmt(part, current)
                else:
                    current = self.stmt(child, current)
        finally:
            self.jumps.pop()
        return join_all([current, *jump.breaks, None if has_default else entry])

    def _break(self, node: Node, state: State) -> None:
        if self.jumps:
            self.jumps[-1].breaks.append(state)
        return None

    def _continue(self, node: Node, state: State) -> None:
        loop = next((j for j in reversed(self.jumps) if j.is_loop), None)
        if loop is not None:
            loop.continues.append(state)
        return None

    def _return(self, node: Node, state: State) -> None:
        value = node.named_children[0] if node.named_child_count else None
        if value is not None and value.type != "comment":
            kind = self._classify(value, state)
            after = self.expr(value, state)
            if after is None:
                return None
            self._report_return(after, node, kind, _plain_name(value, self.text))
        else:
            self._report_return(state, node, "void")
        return None

    def _report_return(
        self, state: State, node: Node, kind: str, variable: str | None = None
    ) -> None:
        if self.reporting:
            self.sink.returned(state, node, kind, variable)

    def _goto(self, node: Node, state: State) -> None:
        label = node.child_by_field_name("label")
        if label is not None:
            self._goto_label(self.scope.node_text(label), state)
        return None

    def _goto_label(self, label: str, state: State) -> None:
        if label in self.labels_seen:
            self.backward[label] = join(self.backward.get(label), state)  # type: ignore[assignment]
        else:
            self.pending[label] = join(self.pending.get(label), state)  # type: ignore[assignment]

    def _label(self, node: Node, state: State | None) -> State | None:
        label = node.child_by_field_name("label")
        name = self.scope.node_text(label) if label is not None else ""
        arriving = join_all([state, self.pending.pop(name, None), self.seeds.get(name)])
        if arriving is not None:
            # guard() scopes the goto jumped out of ended on the way.
            arriving = _drop_guards_outside(arriving, node.start_byte)
        self.labels_seen.add(name)
        for child in node.named_children:
            if label is not None and child.id == label.id:
                continue
            arriving = self.stmt(child, arriving)
        return arriving

    def _preproc(self, node: Node, state: State) -> State | None:
        """`#ifdef X ... #else ... #endif` in a body: the branches are alternatives."""
        if node.type not in _PREPROC_BRANCHES:
            return state  # #define, #include, #pragma inside a body
        fields = [node.child_by_field_name(f) for f in ("condition", "name", "alternative")]
        skip = {f.id for f in fields if f is not None}
        current: State | None = state
        for child in node.named_children:
            if child.id not in skip:
                current = self.stmt(child, current)
        if node.type == "preproc_else":
            return current
        alternative = fields[2]
        other = self._preproc(alternative, state) if alternative is not None else state
        return join(current, other)

    # --- expressions --------------------------------------------------------------------

    def expr(self, node: Node | None, state: State | None) -> State | None:
        """Apply the lock effects of an expression's calls, innermost first, left to right."""
        if node is None or state is None:
            return state
        kind = node.type
        if kind == "call_expression":
            args = node.child_by_field_name("arguments")
            fn = node.child_by_field_name("function")
            if fn is not None and fn.type == "call_expression":
                state = self.expr(fn.child_by_field_name("arguments"), state)
            plain_argument = False
            if args is not None:
                for arg in args.named_children:
                    if arg.type in _INERT:
                        plain_argument = plain_argument or arg.type == "identifier"
                        continue
                    state = self.expr(arg, state)
                    if state is None:
                        return None
            if plain_argument and (state.facts or state.held) and fn.type == "identifier":  # type: ignore[union-attr]
                state = self._macro_arguments(state, fn, args)  # type: ignore[arg-type]
            return self._call(node, state, fn, args)
        if kind == "assignment_expression":
            right = node.child_by_field_name("right")
            left = node.child_by_field_name("left")
            state = self.expr(right, state)
            if state is None:
                return None
            name = _plain_name(left, self.text)
            if name and right is not None and strip_parens(right).type == "pointer_expression":
                self.scope.inits[name] = right
            return self._assign(name, right, state, evaluated=True, assignment=node)
        if kind == "update_expression":
            name = _plain_name(node.child_by_field_name("argument"), self.text)
            if name:
                self.assigned.append(name)
            return state.reassigned(name, self._tag(node)) if name else state
        if kind == "pointer_expression" and self.text[node.start_byte] == 0x26:  # `&x`
            target = node.child_by_field_name("argument")
            if target is not None and target.type == "identifier":
                name = self.scope.node_text(target)
                # Written through the pointer from here on, unseen.
                self.scope.escaped.add(name)
                self.assigned.append(name)
                return state.forget_facts(name)
            return self.expr(node.child_by_field_name("argument"), state)
        if kind in ("gnu_asm_expression", "ERROR") and _has_facts(state):
            # Outputs of inline assembly, text the parser could not read: any variable in
            # it may be written there.
            state = self._unseen_writes(node, state)
        for child in node.named_children:
            if child.type in _INERT:  # half the nodes met here: not worth a call
                continue
            state = self.expr(child, state)
            if state is None:
                return None
        return state

    def _assign(
        self,
        name: str | None,
        value: Node | None,
        state: State,
        *,
        evaluated: bool = False,
        assignment: Node | None = None,
    ) -> State | None:
        """`name = value` (`assignment` the whole expression, `x |= v` included; None for a
        declaration's initialiser)."""
        if not evaluated:
            state = self.expr(value, state)  # type: ignore[assignment]
            if state is None:
                return None
        if not name:
            return state
        self.assigned.append(name)
        state = state.reassigned(name, self._tag(value) if value is not None else 0)
        scope = self.scope
        if (
            value is not None
            and value.type in _CONSTANT_NODES
            and name in scope.names
            and name not in scope.escaped
        ):
            facts = self._constant_facts(name, value)
            if facts and (assignment is None or _operator(assignment) == "="):
                state = state.with_facts(facts)
        call = _as_call(value)
        entry = self._api_entry(call) if call is not None else None
        if entry is not None and entry.action in ("try", "cond"):
            ref = self._lock_ref(entry, call)  # type: ignore[arg-type]
            if ref is not None:
                return state.with_result(name, (ref.instance,), entry.action)
        tested = self._effect_test(call) if call is not None and entry is None else None
        if tested is not None:
            _, holds = tested
            how = "cond" if holds[0].when == "zero" else "try"
            return state.with_result(name, self._effect_instances(call, holds), how)
        if value is not None:
            return state.with_value(name, _classify_value(value, self.text, state))
        return state

    def _call(self, node: Node, state: State, fn: Node | None, args: Node | None) -> State | None:
        """A call whose arguments have been evaluated; `fn` and `args` are its fields."""
        if fn is None:
            return state
        if fn.type == "call_expression":
            return self._guard_call(node, fn, state)
        name = self.scope.node_text(fn)
        if name in _NORETURN:
            return None
        entry = self.api.functions.get(name)
        if entry is None:
            self._observe_call(state, node, fn, args)
            effect = self.call_effects.get(name) if fn.type == "identifier" else None
            if effect is None:
                return state
            return self._apply_effect(state, effect, node, args)
        ref = self._lock_ref(entry, node)
        if ref is None:
            return state
        action = entry.action
        if action == "acquire":
            return self._take(state, ref, entry.kind, node, nested=entry.nested)
        if action in ("try", "cond"):
            # Result ignored or not tested here: the lock may or may not be held now.
            taken = self._take(state, ref, entry.kind, node, nested=entry.nested)
            held = taken.held.get(ref.instance)
            if held is not None and action == "try":
                taken = taken.holding(replace(held, must=False))
            return taken
        if action == "release":
            return self._drop(state, ref, node)
        if action == "assert":
            return self._assert_held(state, ref, node)
        if action == "sync":
            if self.reporting:
                self.sink.sync(state, ref, node)
            return state
        if action == "downgrade":
            held = state.find(ref.cls, ref.instance)
            return state.holding(replace(held, kind=entry.kind)) if held else state
        return state

    def _apply_effect(
        self, state: State, effect: CallEffect, node: Node, args: Node | None
    ) -> State:
        """A call to a function that releases the caller's locks or returns holding some:
        the same events as if the caller did it here. A hold that depends on the return
        value is held on some paths until the caller tests the result (see `_effect_test`)."""
        arguments = [a for a in args.named_children if a.type != "comment"] if args else []
        for release in effect.releases:
            ref = self._effect_ref(release.instance, release.cls, arguments, node, taken=False)
            if ref is None:
                continue
            state = self._drop(state, ref, node)
            if not release.instance:
                # Objects the callee reached itself (`unlock_vcpus(kvm, n)`): all of the
                # class the caller holds.
                for _ in range(len(state.held)):
                    if not state.may_hold(release.cls):
                        break
                    state = self._drop(state, ref, node)
        for hold in effect.holds:
            ref = self._effect_ref(hold.instance, hold.cls, arguments, node)
            if ref is None:
                continue
            state = self._take(state, ref, hold.kind, node, nested=False)
            if hold.when != "always":
                held = state.held[ref.instance]
                state = state.holding(replace(held, must=False))
        return state

    def _effect_ref(
        self, pattern: str, cls: str, arguments: list[Node], call: Node, taken: bool = True
    ) -> LockRef | None:
        """The caller's lock for a callee's instance: `$N` is argument N (a lock), `$N->f`
        a field reached through argument N, a name a global lock; an instance the caller
        cannot name (reached through the callee's locals) is one of the class's, another at
        each call, and a release of one releases the class's lock the caller holds."""
        if not pattern:
            return LockRef(cls, f"{cls}@{self._tag(call)}" if taken else cls)
        rooted = parameter_of(pattern)
        if rooted is not None and not rooted[1] and rooted[0] < len(arguments):
            # The lock itself is the argument: the caller's own expression names it.
            ref = self.scope.resolve(arguments[rooted[0]])
            if ref is not None:
                return ref
        if cls.startswith("$"):
            return None  # a lock the callee knows only as its parameter, and no lock here
        texts = [self.scope.node_text(a) for a in arguments]
        return LockRef(cls, instance_at_call(pattern, texts) or cls)

    def _effect_test(self, call: Node) -> tuple[CallEffect, tuple[Hold, ...]] | None:
        """A call whose result tells which locks it returns holding."""
        fn = call.child_by_field_name("function")
        if fn is None or fn.type != "identifier":
            return None
        effect = self.call_effects.get(self.scope.node_text(fn))
        if effect is None or not effect.conditional:
            return None
        return effect, effect.conditional

    def _effect_instances(self, call: Node, holds: tuple[Hold, ...]) -> tuple[str, ...]:
        args = call.child_by_field_name("arguments")
        arguments = [a for a in args.named_children if a.type != "comment"] if args else []
        refs = (self._effect_ref(h.instance, h.cls, arguments, call) for h in holds)
        return tuple(ref.instance for ref in refs if ref is not None)

    def _guard_call(self, node: Node, maker: Node, state: State) -> State:
        """guard(type)(&l), ACQUIRE(type, name)(&l), CLASS(type, var)(args)."""
        name_node = maker.child_by_field_name("function")
        maker_args = maker.child_by_field_name("arguments")
        if name_node is None or maker_args is None or not maker_args.named_child_count:
            return state
        if self.scope.node_text(name_node) not in _GUARD_MAKERS:
            # static_call(x)(...), kvm_x86_call(x)(...)
            self._observe_call(state, node, maker, node.child_by_field_name("arguments"))
            return state
        entry = self.api.guards.get(self.scope.node_text(maker_args.named_children[0]))
        args = node.child_by_field_name("arguments")
        if entry is None or args is None:
            return state
        lock_node = args.named_children[0] if args.named_child_count else None
        ref = self._guard_ref(entry.lock_class, lock_node)
        if ref is None:
            return state
        block = _enclosing_block(node)
        scope = (block.start_byte, block.end_byte) if block is not None else None
        return self._take(
            state, ref, entry.kind, node, nested=False, origin=Origin.GUARD, scope=scope
        )

    def _guard_ref(self, fixed_class: str, lock_node: Node | None) -> LockRef | None:
        if fixed_class:
            return LockRef(fixed_class, fixed_class)
        return self.scope.resolve(lock_node)

    def _take(
        self,
        state: State,
        ref: LockRef,
        kind: str,
        node: Node,
        *,
        nested: bool,
        origin: Origin = Origin.ACQUIRED,
        scope: tuple[int, int] | None = None,
    ) -> State:
        if self.reporting:
            self.sink.acquire(state, ref, kind, node, nested)
        again = state.held.get(ref.instance)
        if origin is Origin.ACQUIRED and ref.instance in state.borrowed:
            origin = Origin.ENTRY
        held = Held(
            cls=ref.cls,
            instance=ref.instance,
            kind=kind,
            line=self.line_of(node.start_byte),
            byte=node.start_byte,
            must=True,
            origin=origin,
            scope=scope,
            depth=again.depth + 1 if again is not None else 1,
        )
        return state.holding(held)

    def _drop(self, state: State, ref: LockRef, node: Node) -> State:
        if self.reporting:
            self.sink.release(state, ref, node, any(j.is_loop for j in self.jumps))
        for jump in self.jumps:
            jump.released.add(ref.instance)
        held = state.find(ref.cls, ref.instance)
        if held is None:
            if ref.instance in state.released:
                return state
            # First touch is an unlock: the caller held it; re-taking it later restores it.
            return replace(
                state,
                released=state.released | {ref.instance},
                borrowed=state.borrowed | {ref.instance},
            )
        if held.depth > 1:
            return state.holding(replace(held, depth=held.depth - 1))
        released = state.without(held.instance)
        if held.origin is Origin.ENTRY:
            # The caller's lock, dropped for a while: taking it again gives it back.
            return replace(released, borrowed=released.borrowed | {held.base})
        return released

    def _observe_call(self, state: State, node: Node, callee: Node, args: Node | None) -> None:
        if not self.reporting:
            return
        arguments = [a for a in args.named_children if a.type != "comment"] if args else []
        classes = []
        for arg in arguments:
            ref = self.scope.resolve(arg) if arg.type == "pointer_expression" else None
            classes.append(ref.cls if ref is not None else None)
        base_struct = ""
        if callee.type == "field_expression":
            base_struct = self.scope.base_struct(callee.child_by_field_name("argument")) or ""
        self.sink.call(
            state,
            node,
            self.scope.node_text(callee),
            tuple(self.scope.node_text(a) for a in arguments),
            tuple(classes),
            base_struct,
        )

    def _assert_held(self, state: State, ref: LockRef, node: Node) -> State:
        if self.reporting:
            self.sink.assertion(state, ref, node)
        held = state.find(ref.cls, ref.instance)
        if held is not None:
            return state.holding(replace(held, must=True))
        return state.holding(
            Held(
                cls=ref.cls,
                instance=ref.instance,
                kind=self.kind_hint(ref.cls),
                line=self.line_of(node.start_byte),
                byte=node.start_byte,
                must=True,
                origin=Origin.ENTRY,
            )
        )

    def _api_entry(self, call: Node) -> ApiEntry | None:
        fn = call.child_by_field_name("function")
        if fn is None or fn.type != "identifier":
            return None
        return self.api.functions.get(self.scope.node_text(fn))

    def _lock_ref(self, entry: ApiEntry, call: Node) -> LockRef | None:
        if entry.lock_class:
            return LockRef(entry.lock_class, entry.lock_class)
        args = call.child_by_field_name("arguments")
        if args is None:
            return None
        named = [a for a in args.named_children if a.type != "comment"]
        if entry.arg >= len(named):
            return None
        target = named[entry.arg]
        if entry.via == "vcpu":
            stripped = strip(target)
            text = self.scope.node_text(stripped) if stripped is not None else "vcpu"
            return LockRef("kvm->srcu", f"{text}->kvm->srcu")
        ref = self.scope.resolve(target)
        if ref is None or not entry.field:
            return ref
        return LockRef(canonical(join_field(ref.cls, entry.field)), f"{ref.instance}.{entry.field}")

    # --- conditions ---------------------------------------------------------------------

    def cond(self, node: Node | None, state: State) -> tuple[State | None, State | None]:
        """States where the condition is true and where it is false."""
        if node is None:
            return state, state
        kind = node.type
        if kind in ("parenthesized_expression", "condition_clause") and node.named_child_count:
            inner = [c for c in node.named_children if c.type != "comment"]
            if len(inner) == 1:
                return self.cond(inner[0], state)
        if kind == "unary_expression" and _operator(node) == "!":
            true, false = self.cond(node.child_by_field_name("argument"), state)
            return false, true
        if kind == "binary_expression":
            op = _operator(node)
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if op == "&&":
                lt, lf = self.cond(left, state)
                if lt is None:
                    return None, lf
                rt, rf = self.cond(right, lt)
                return rt, join(lf, rf)
            if op == "||":
                lt, lf = self.cond(left, state)
                if lf is None:
                    return lt, None
                rt, rf = self.cond(right, lf)
                return join(lt, rt), rf
            zero_test = _zero_test(node, op, self.text)
            if zero_test is not None:
                operand, truthy = zero_test
                true, false = self.cond(operand, state)
                return (true, false) if truthy else (false, true)
        if kind == "call_expression":
            fn = node.child_by_field_name("function")
            fname = self.scope.node_text(fn) if fn is not None else ""
            args = node.child_by_field_name("arguments")
            if fname in _TRANSPARENT and args is not None and args.named_child_count:
                true, false = self.cond(args.named_children[0], state)
                rest = args.named_children[1:]
                for extra in rest:
                    true, false = self.expr(extra, true), self.expr(extra, false)
                return true, false
            entry = self.api.functions.get(fname)
            if entry is not None and entry.action in ("try", "cond"):
                before = state
                if args is not None:
                    for arg in args.named_children:
                        before = self.expr(arg, before)  # type: ignore[assignment]
                        if before is None:
                            return None, None
                ref = self._lock_ref(entry, node)
                if ref is None:
                    return before, before
                taken = self._take(before, ref, entry.kind, node, nested=entry.nested)
                return (taken, before) if entry.action == "try" else (before, taken)
            tested = self._effect_test(node) if entry is None else None
            if tested is not None:
                after = self.expr(node, state)
                if after is None:
                    return None, None
                _, holds = tested
                how = "cond" if holds[0].when == "zero" else "try"
                return self._split_on_result(after, self._effect_instances(node, holds), how)
        if kind == "identifier":
            name = self.scope.node_text(node)
            result = state.results.get(name)
            if result is not None:
                instances, how = result
                return self._split_on_result(state, instances, how, name)
        if kind == "assignment_expression":
            after = self.expr(node, state)
            if after is None:
                return None, None
            name = _plain_name(node.child_by_field_name("left"), self.text)
            if name and name in after.results:
                instances, how = after.results[name]
                return self._split_on_result(after, instances, how, name)
            return after, after
        after = self.expr(node, state)
        if after is None:
            return None, None
        true: State | None = after
        false: State | None = after
        fact = self._fact_test(node) if kind in _FACT_NODES else None
        if fact is not None:
            test, truth = fact
            true, false = after.split(test)
            if not truth:
                true, false = false, true
        # Only a lock tagged with a condition (`if (c) lock(l);`) can be resolved by one.
        if not any(lock.cond is not None for lock in after.held.values()):
            return true, false
        key = self._pure_condition(node)
        if key is None:
            return true, false
        if true is not None:
            true = _on_condition(_on_condition(true, key, True), "!" + key, False)
        if false is not None:
            false = _on_condition(_on_condition(false, key, False), "!" + key, True)
        return true, false

    # --- facts about the function's own variables ---------------------------------------

    def _fact_test(self, node: Node) -> tuple[str, bool] | None:
        """The condition as a test on the function's own variables, with the truth the test
        has where the condition holds: `locked` → ("locked", True), `n == 0` → ("n", False),
        `flag != 2` → ("flag==2", False), `i < n` → ("i<n", True); None for anything that
        reads memory, calls, or names a variable something else may write."""
        found = self.fact_tests.get(node.id, False)
        if found is False:
            found = self.fact_tests[node.id] = self._read_fact_test(node)
        if found is None:
            return None
        test, truth, names = found
        escaped = self.scope.escaped
        if escaped:
            for name in names:
                if name in escaped:
                    return None
        return test, truth

    def _read_fact_test(self, node: Node) -> tuple[str, bool, tuple[str, ...]] | None:
        kind = node.type
        if kind == "parenthesized_expression":
            node = strip_parens(node)
            kind = node.type
        if kind == "identifier":
            name = self.text[node.start_byte : node.end_byte].decode("utf-8", "replace")
            return (name, True, (name,)) if self._variable(name) else None
        if kind == "unary_expression" and _operator(node) == "!":
            inner = node.child_by_field_name("argument")
            found = self._read_fact_test(inner) if inner is not None else None
            return (found[0], not found[1], found[2]) if found is not None else None
        if kind == "binary_expression" and _operator(node) in ("==", "!="):
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is not None and right is not None:
                left, right = strip_parens(left), strip_parens(right)
                if left.type != "identifier":
                    left, right = right, left
                constant = _constant(right, self.text)
                if left.type == "identifier" and constant is not None:
                    name = self.scope.node_text(left)
                    if not self._variable(name):
                        return None
                    equal = _operator(node) == "=="
                    if constant == 0:
                        return name, not equal, (name,)
                    return f"{name}=={constant}", equal, (name,)
        names: list[str] = []
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type not in _FACT_NODES:
                return None
            if current.type == "identifier":
                name = self.scope.node_text(current)
                if _CONSTANT_NAME.fullmatch(name):
                    continue
                if not self._variable(name):
                    return None
                names.append(name)
            stack.extend(current.named_children)
        if not names:
            return None
        return self.scope.node_text(node), True, tuple(names)

    def _variable(self, name: str) -> bool:
        return self.scope.tracked(name) and not _CONSTANT_NAME.fullmatch(name)

    def _constant_facts(self, name: str, value: Node) -> frozenset[Fact]:
        """`name = 0;`, `name = true;`, `name = 4;`, `name = -EBUSY;`: what the name's tests
        give from here."""
        value = strip_parens(value)
        constant = _constant(value, self.text)
        if constant is None:
            raw = self.scope.node_text(value)
            return frozenset({(name, True)}) if _ERRNO.match(raw) else NO_FACTS
        if constant == 0:
            return frozenset({(name, False)})
        return frozenset({(name, True), (f"{name}=={constant}", True)})

    def _unseen_writes(self, node: Node, state: State) -> State:
        stack = [node]
        while stack:
            current = stack.pop()
            if current.type == "identifier":
                name = self.scope.node_text(current)
                self.assigned.append(name)
                state = state.forget_facts(name)
            else:
                stack.extend(current.named_children)
        return state

    def _macro_arguments(self, state: State, fn: Node, args: Node) -> State:
        """`get_user(x, p)`, `WRITE_ONCE(x, v)`: a macro may assign a plain-name argument."""
        if not _has_facts(state):
            return state
        callee = self.text[fn.start_byte : fn.end_byte]
        if not (
            callee in _ASSIGNING_MACROS
            or callee.endswith((b"irqsave", b"irqsave_nested"))
            or _CONSTANT_BYTES.fullmatch(callee)
        ):
            return state
        for arg in args.named_children:
            if arg.type == "identifier":
                name = self.scope.node_text(arg)
                self.assigned.append(name)
                state = state.forget_facts(name)
        return state

    def _split_on_result(
        self, state: State, instances: tuple[str, ...], how: str, name: str | None = None
    ) -> tuple[State, State]:
        """`if (r)` after `r = mutex_trylock(..)` / `r = mutex_lock_killable(..)` /
        `r = helper_returning_0_locked(..)`; on each side `r` is known to be zero or not
        (`return r;` there returns that)."""
        present = [i for i in instances if i in state.held]
        if not present:
            return state, state
        taken = state
        for instance in present:
            taken = taken.holding(replace(state.held[instance], must=True))
        dropped = replace(state, held={k: v for k, v in state.held.items() if k not in present})
        if name is not None:
            taken = taken.noting(name, "one" if how == "try" else "zero")
            dropped = dropped.noting(name, "zero" if how == "try" else "err")
        return (taken, dropped) if how == "try" else (dropped, taken)

    def _pure_condition(self, node: Node | None) -> str | None:
        """Text of a side-effect-free condition: `if (c) lock; ... if (c) unlock;` pairs."""
        if node is None:
            return None
        node = strip_parens(node)
        if _has_effects(node):
            return None
        text = self.text[node.start_byte : node.end_byte].decode("utf-8", "replace")
        return "".join(text.split())

    # --- return values ------------------------------------------------------------------

    def _classify(self, value: Node, state: State) -> str:
        call = _as_call(value)
        if call is not None:
            entry = self._api_entry(call)
            if entry is not None and entry.action in ("try", "cond", "acquire"):
                return "lock-helper"
            fn = call.child_by_field_name("function")
            effect = self.call_effects.get(self.scope.node_text(fn)) if fn is not None else None
            if effect is not None and effect.holds:
                return "lock-helper"
        return _classify_value(value, self.text, state)


_STATEMENTS = {
    "expression_statement": FunctionWalker._expression_statement,
    "declaration": FunctionWalker._declaration,
    "if_statement": FunctionWalker._if,
    "while_statement": FunctionWalker._while,
    "for_statement": FunctionWalker._for,
    "do_statement": FunctionWalker._do,
    "switch_statement": FunctionWalker._switch,
    "break_statement": FunctionWalker._break,
    "continue_statement": FunctionWalker._continue,
    "return_statement": FunctionWalker._return,
    "goto_statement": FunctionWalker._goto,
}


# --- helpers --------------------------------------------------------------------------------


def _macro_name(source: bytes, node: Node) -> str | None:
    """Which keyword or macro the original text has where the rewritten tree has if/while."""
    match = _WORD.match(source, node.start_byte, node.start_byte + 64)
    return match.group().decode() if match else None


def _comma_items(condition: Node | None) -> list[Node]:
    if condition is None:
        return []
    node = condition
    while node.type == "parenthesized_expression" and node.named_child_count == 1:
        node = node.named_children[0]
    items: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "comma_expression":
            right = current.child_by_field_name("right")
            left = current.child_by_field_name("left")
            if right is not None:
                stack.append(right)
            if left is not None:
                stack.append(left)
        elif current.type not in ("comment", "ERROR") or current.named_child_count:
            items.append(current)
    return [i for i in items if i.type != "comment"]


def _whole_collection(
    exit_state: State | None,
    body_end: State | None,
    released: set[str],
    loop_vars: list[str],
    named_only: bool = False,
) -> State | None:
    """An iterator loop that locks (or unlocks) each element does so for all of them: the
    zero-iteration path is the one where the matching lock-all loop took nothing either."""
    if exit_state is None:
        return None
    state = exit_state
    # An unlock-all loop ends each iteration without the element's lock; a lock-all loop
    # that unlocks on its way out (`mutex_unlock(&vcpu->mutex); goto out;`, an unlock-all
    # helper before `return`) still holds it at the end of the body.
    kept = {lock.base for lock in body_end.held.values()} if body_end is not None else None
    for base in released:
        if kept is not None and base not in kept and any(_names(base, var) for var in loop_vars):
            state = state.without_base(base)
    if body_end is not None:
        # This iteration's instance (`vcpu->mutex`) stands for the earlier ones
        # (`vcpu->mutex#<loop>`) the loop head renamed.
        taken = {lock.base for lock in body_end.held.values() if lock.must}
        if named_only:  # an index loop: only the elements' locks
            taken = {base for base in taken if any(_names(base, var) for var in loop_vars)}
        for current in list(state.held.values()):
            if current.base in taken and not current.must:
                state = state.holding(replace(current, must=True))
    return state


def _has_facts(state: State) -> bool:
    return bool(state.facts) or any(lock.facts for lock in state.held.values())


def _declared_name_of(declarator: Node) -> str | None:
    while declarator is not None and declarator.type != "identifier":
        declarator = declarator.child_by_field_name("declarator")  # type: ignore[assignment]
    return declarator.text.decode("utf-8", "replace") if declarator is not None else None


def _constant(node: Node | None, text: bytes) -> int | None:
    """The value of an integer constant: `0`, `4U`, `0x10`, `-1`, `true`, `false`, `NULL`."""
    if node is None:
        return None
    node = strip_parens(node)
    kind = node.type
    if kind in ("true", "false", "null"):
        return {"true": 1, "false": 0, "null": 0}[kind]
    if kind == "identifier" and text[node.start_byte : node.end_byte] == b"NULL":
        return 0
    if kind == "unary_expression" and _operator(node) == "-":
        inner = _constant(node.child_by_field_name("argument"), text)
        return -inner if inner is not None else None
    if kind != "number_literal":
        return None
    raw = text[node.start_byte : node.end_byte].decode("ascii", "replace").lower().rstrip("ul")
    try:
        return int(raw, 0)
    except ValueError:
        try:
            return int(raw, 8) if raw.startswith("0") else None
        except ValueError:
            return None


def _names(text: str, var: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(var)}(?![\w])", text) is not None


def _enclosing_block(node: Node) -> Node | None:
    current = node.parent
    while current is not None and current.type != "compound_statement":
        current = current.parent
    return current


def _drop_guards(state: State | None, start: int, end: int) -> State | None:
    """guard() locks whose scope lies within [start, end) are released when leaving it."""
    if state is None:
        return None
    doomed = [
        key
        for key, lock in state.held.items()
        if lock.origin is Origin.GUARD
        and lock.scope
        and start <= lock.scope[0]
        and lock.scope[1] <= end
    ]
    if not doomed:
        return state
    return replace(state, held={k: v for k, v in state.held.items() if k not in doomed})


def _drop_guards_outside(state: State, at: int) -> State:
    doomed = [
        key
        for key, lock in state.held.items()
        if lock.origin is Origin.GUARD and lock.scope and not lock.scope[0] <= at < lock.scope[1]
    ]
    if not doomed:
        return state
    return replace(state, held={k: v for k, v in state.held.items() if k not in doomed})


def _takes_new(end: State, before: State) -> bool:
    """Whether a branch took a lock that was not held before it (see _mark_conditional)."""
    return any(
        lock.origin is Origin.ACQUIRED and instance not in before.held
        for instance, lock in end.held.items()
    )


def _mark_conditional(end: State, before: State, key: str) -> State:
    """Locks taken only in `if (key)`'s body are held exactly when `key` is true."""
    held = dict(end.held)
    for instance, lock in end.held.items():
        if instance not in before.held and lock.origin is Origin.ACQUIRED:
            held[instance] = replace(lock, cond=key)
    return replace(end, held=held)


def _on_condition(state: State, key: str, value: bool) -> State:
    held = {}
    for instance, lock in state.held.items():
        if lock.cond != key:
            held[instance] = lock
        elif value:
            held[instance] = replace(lock, must=True)
    return replace(state, held=held) if len(held) != len(state.held) or value else state


def _operator(node: Node) -> str:
    op = node.child_by_field_name("operator")
    return op.type if op is not None else ""


def _zero_test(node: Node, op: str, text: bytes) -> tuple[Node, bool] | None:
    """`x != 0`, `x < 0` → (x, truthy); `x == 0`, `x >= 0` → (x, falsy)."""
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if left is None or right is None:
        return None
    if right.type == "number_literal" and text[right.start_byte : right.end_byte] == b"0":
        if op in ("!=", "<", ">"):
            return left, True
        if op in ("==", ">="):
            return left, False
    return None


def _has_effects(node: Node) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in ("call_expression", "assignment_expression", "update_expression"):
            return True
        stack.extend(current.children)
    return False


def _as_call(value: Node | None) -> Node | None:
    value = strip_parens(value) if value is not None else None
    return value if value is not None and value.type == "call_expression" else None


def _plain_name(node: Node | None, text: bytes) -> str | None:
    node = strip_parens(node) if node is not None else None
    if node is not None and node.type == "identifier":
        return text[node.start_byte : node.end_byte].decode("utf-8", "replace")
    return None


def _classify_value(value: Node, text: bytes, state: State) -> str:
    raw = " ".join(text[value.start_byte : value.end_byte].decode("utf-8", "replace").split())
    return _classify_text(raw, state)


def _classify_text(raw: str, state: State) -> str:
    raw = raw.rstrip(";").strip()
    while raw.startswith("(") and raw.endswith(")"):
        raw = raw[1:-1].strip()
    if not raw:
        return "void"
    if _ERRNO.match(raw) or raw.startswith("ERR_PTR("):
        return "err"
    if raw in ("NULL", "false"):
        return "null"
    if raw == "0":
        return "zero"
    if raw == "true" or raw.isdigit():
        return "one"
    if raw in state.values:
        return state.values[raw]
    return "unknown"


def _is_false(node: Node | None, text: bytes) -> bool:
    node = strip_parens(node) if node is not None else None
    return node is not None and text[node.start_byte : node.end_byte].strip() in (b"0", b"false")


def _is_true(node: Node | None, text: bytes) -> bool:
    node = strip_parens(node) if node is not None else None
    return node is not None and text[node.start_byte : node.end_byte].strip() in (b"1", b"true")
