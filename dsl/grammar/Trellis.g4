// The one grammar of Trellis: the expression language of SPEC §1 and (added
// later) the textual flow DSL. One grammar gives one generated parser, so the
// hand-written transformer of expressions (dsl/transform_expression.cpp)
// serves both front ends.
//
// This is the only grammar file a person edits. CMake regenerates the C++ into
// the build tree (dsl/grammar/CMakeLists.txt); never edit the generated code.
//
// Some alternatives match common slips on purpose (`=` for `==`, `<>`, `&&`,
// `||`, `!`): they parse, and the transformer reports a targeted message
// ("use '==' to compare") instead of a generic syntax error.
grammar Trellis;

// ============================================================================
// Expression language (SPEC §1). Rules reused by the flow DSL start here.
// ============================================================================

// Entry: one expression string, as in a YAML `match:` or `when:` value.
expressionEntry : expression EOF ;

// Entry: the inside of a template placeholder, `{{ path | default: "x" }}`.
// The transformer checks that the filter is `default`.
placeholderEntry : path ( PIPE name COLON literal )? EOF ;

// Precedence from loosest to tightest: or, and, not, comparison, + -, * / %,
// unary minus. One rule per level keeps the transformer a plain loop.
expression : orExpression ;

orExpression : andExpression ( orOperator andExpression )* ;

orOperator
    : OR
    | PIPE_PIPE   // slip: `||`
    ;

andExpression : notExpression ( andOperator notExpression )* ;

andOperator
    : AND
    | AMP_AMP     // slip: `&&`
    ;

notExpression
    : notOperator notExpression
    | comparison
    ;

notOperator
    : NOT
    | BANG        // slip: `!`
    ;

// More than one operator (`a < b < c`) parses so that the transformer can say
// "combine comparisons with 'and'".
comparison : additive ( comparisonOperator additive )* ;

comparisonOperator
    : EQ | NE | LT | LE | GT | GE | IN
    | ASSIGN      // slip: `=` used to compare
    | LT_GT       // slip: `<>` for `!=`
    ;

additive : multiplicative ( additiveOperator multiplicative )* ;

additiveOperator : PLUS | MINUS ;

multiplicative : unary ( multiplicativeOperator unary )* ;

multiplicativeOperator : STAR | SLASH | PERCENT ;

unary
    : MINUS unary
    | primary
    ;

primary
    : literal
    | list
    | call
    | NOW
    | path
    | LPAREN expression RPAREN
    ;

literal
    : NUMBER
    | NUMBER_WITH_UNIT   // a duration such as 72h; the unit is checked by the transformer
    | STRING
    | UNCLOSED_STRING    // slip: reported as "unclosed string"
    | TRUE
    | FALSE
    | NULL_
    ;

list : LBRACK ( expression ( COMMA expression )* COMMA? )? RBRACK ;

// `has(user.email)`, `days_since(user.signed_up_at)`. The transformer knows the
// function names, so an unknown one gets "did you mean".
call : IDENTIFIER LPAREN ( expression ( COMMA expression )* )? RPAREN ;

// `user.address.city`, `event.type`, `last_event.value`, `coupon.code`. The
// root is an identifier the transformer checks; later segments may be keywords
// (`event.in`), so a trait may have any name.
path : IDENTIFIER ( DOT name )* ;

// A name after a dot or before `:`. When the flow DSL adds keywords, add them
// here too, so that `user.<keyword>` still reads a trait.
name
    : IDENTIFIER
    | AND | OR | NOT | IN | TRUE | FALSE | NULL_ | NOW
    ;

// ============================================================================
// Tokens. Keywords are lower case; `True` is an identifier (the transformer
// suggests `true`).
// ============================================================================

AND   : 'and' ;
OR    : 'or' ;
NOT   : 'not' ;
IN    : 'in' ;
TRUE  : 'true' ;
FALSE : 'false' ;
NULL_ : 'null' ;
NOW   : 'now' ;

EQ      : '==' ;
NE      : '!=' ;
LE      : '<=' ;
GE      : '>=' ;
LT_GT   : '<>' ;
LT      : '<' ;
GT      : '>' ;
ASSIGN  : '=' ;
AMP_AMP : '&&' ;
PIPE_PIPE : '||' ;
BANG    : '!' ;
PIPE    : '|' ;
COLON   : ':' ;

PLUS    : '+' ;
MINUS   : '-' ;
STAR    : '*' ;
SLASH   : '/' ;
PERCENT : '%' ;

LPAREN : '(' ;
RPAREN : ')' ;
LBRACK : '[' ;
RBRACK : ']' ;
COMMA  : ',' ;
DOT    : '.' ;

NUMBER : DIGITS ( '.' DIGITS )? ( [eE] [+-]? DIGITS )? ;

// `72h`, `90s`, `1.5h` (rejected later with a hint), `3days` (unknown unit).
// Listed after NUMBER so that `1e5` stays a number.
NUMBER_WITH_UNIT : DIGITS ( '.' DIGITS )? [a-zA-Z_] [a-zA-Z_0-9]* ;

IDENTIFIER : [a-zA-Z_] [a-zA-Z_0-9]* ;

// Escapes are decoded (and bad ones reported) by the transformer.
STRING
    : '"' ( ~["\\\r\n] | ESCAPE )* '"'
    | '\'' ( ~['\\\r\n] | ESCAPE )* '\''
    ;

// A string without its closing quote; shorter than STRING when the quote exists.
UNCLOSED_STRING
    : '"' ( ~["\\\r\n] | ESCAPE )* '\\'?
    | '\'' ( ~['\\\r\n] | ESCAPE )* '\\'?
    ;

WS : [ \t\r\n]+ -> skip ;

// Anything else becomes a token, so the parser (not the lexer) reports it and
// every syntax error goes through one listener.
ERROR_CHARACTER : . ;

fragment DIGITS : [0-9]+ ;
fragment ESCAPE : '\\' . ;
