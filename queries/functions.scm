; Every function definition; kvmlock.syntax.functions drops the ones nested in another
; definition (misparsed macros) and recovers the ones hidden inside ERROR nodes.
(function_definition
  body: (compound_statement) @body) @function
