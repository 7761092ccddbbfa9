"""Interprocedural analysis: per-function summaries over a workspace index, and the findings
they make possible (checks through calls, requires-held, order-cycle).

Everything here works on plain data sent back by the per-file analysis (`records.FileRecord`),
so the command line can build records in worker processes and the language server can keep
them per open document.
"""
