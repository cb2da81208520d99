// The one grammar of Trellis: the expression language (docs/expressions.md) and (added
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
// Expression language (docs/expressions.md). Rules reused by the flow DSL start here.
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

// `has(user.email)`, `days_since(user.signed_up_at)`,
// `count("product_viewed", 30d, where: event.category == "exam")`. The
// transformer knows the function names, so an unknown one gets "did you mean",
// and which argument may be named `where:`.
call : IDENTIFIER LPAREN ( callArgument ( COMMA callArgument )* )? RPAREN ;

callArgument : ( WHERE COLON )? expression ;

// `user.address.city`, `event.type`, `last_event.value`, `coupon.code`. The
// root is an identifier the transformer checks; later segments may be keywords
// (`event.in`), so a trait may have any name.
path : IDENTIFIER ( DOT name )* ;

// A name after a dot or before `:`. When the flow DSL adds keywords, add them
// here too, so that `user.<keyword>` still reads a trait.
name
    : IDENTIFIER
    | AND | OR | NOT | IN | TRUE | FALSE | NULL_ | NOW
    | FLOW | DESCRIPTION | TRIGGER | WHEN | KEY | RE_ENTRY | NEVER | ALWAYS | AFTER
    | EXIT_ON | GOAL | START | MATCH | YES | NO | NEXT | ON_EVENT | ON_EXHAUSTED
    | FOR | UNTIL_EVENT | WHERE | POOL | GENERATE | PREFIX | LENGTH | TEXT | SUBJECT
    | BODY | URL | WEIGHT | CATEGORY | PRIORITY | ON_CAP | UNTIL_TIME | ON_DAYS | WITHIN | VALUE
    | SCHEDULE | EVERY | AUDIENCE | IN_USER_TIME_ZONE
    ;

// ============================================================================
// Flow DSL: a `.flow` file (README "The flow DSL"). A `flow` block holds the
// flow's settings, then one block per node; transitions are arrows
// (`next -> mail`). Newlines are plain white space: every field starts with a
// keyword, so an expression ends where the next field begins. Comments (`#`)
// go to the hidden channel; the transformer attaches a comment line to the flow,
// node or variant below it, and a comment ending a line to that line's field.
// The transformer checks which fields fit which node type, so a misplaced field
// gets "did you mean" rather than a syntax error.
// ============================================================================

// Entry: a whole `.flow` file.
flowFile : flowBlock? nodeBlock* EOF ;

flowBlock : FLOW dslName LBRACE flowSetting* RBRACE ;

flowSetting
    : descriptionField
    | triggerField
    | reEntryField
    | exitOnField
    | goalField
    | categoryField
    | priorityField
    | onCapField
    | startField
    | unknownSetting
    ;

// `trigger cart_updated when ... key ...`, or a broadcast (docs/flows.md#broadcasts):
// `trigger schedule "2026-12-24 10:00" every day in_user_time_zone audience <expression>`.
// An event named `schedule` is still `trigger schedule`: only a string after it
// makes a schedule.
triggerField
    : TRIGGER SCHEDULE STRING ( EVERY dslName )? IN_USER_TIME_ZONE? ( AUDIENCE expression )?
    | TRIGGER dslName ( WHEN expression )? ( KEY expression )?
    ;

reEntryField : RE_ENTRY ( NEVER | ALWAYS | AFTER duration ) ;

exitOnField : EXIT_ON dslName ( COMMA dslName )* ;

// `goal order_paid where event.total > 0 within 7d value event.revenue`
// (docs/results.md#goals): each part optional, in this order.
goalField : GOAL dslName ( WHERE where=expression )? ( WITHIN duration )? ( VALUE value=expression )? ;

startField : START ARROW dslName ;

// Governed delivery (docs/ir-json.md): `category transactional`, `priority high`
// or `priority 80`, `on_cap skip`. The checker judges the words.
categoryField : CATEGORY dslName ;

priorityField : PRIORITY ( dslName | NUMBER ) ;

onCapField : ON_CAP dslName ;

// `pick: segment { ... }`; a node with nothing to say needs no braces (`done: exit`).
nodeBlock : dslName COLON nodeType=name ( LBRACE nodeField* RBRACE )? ;

nodeField
    : descriptionField
    | matchField
    | transitionField
    | forField
    | untilTimeField
    | onDaysField
    | untilEventField
    | poolField
    | generateField
    | messageField
    | branchField
    | expressionMapField
    | unknownField   // before variantField: `txt "Hi"` is a typo, not two variants
    | variantField
    ;

descriptionField : DESCRIPTION STRING ;

matchField : MATCH expression ;

transitionField : transitionKeyword ARROW dslName ;

transitionKeyword : YES | NO | NEXT | ON_EVENT | ON_EXHAUSTED ;

forField : FOR duration ;

untilEventField : UNTIL_EVENT dslName ( WHERE expression )? ;

// `until_time "10:00"` then `on_days mon, tue`: like every field, each keyword
// is its YAML key, so a comment or diagnostic on either has one line.
untilTimeField : UNTIL_TIME STRING ;

onDaysField : ON_DAYS dslName ( COMMA dslName )* ;

poolField : POOL dslName ;

generateField : GENERATE ( PREFIX STRING )? ( LENGTH NUMBER )? ;

messageField : messageKeyword STRING ;

messageKeyword : TEXT | SUBJECT | BODY | URL ;

// Shapes of generic kinds' fields (docs/node-kinds.md), named by the table of
// kinds rather than by keywords, so a new kind needs no grammar change. The
// other shapes reuse rules below: `name -> node` (variantField), `name <expression>`,
// `name "text"` and `name 72h` (unknownField); the transformer judges them by the
// field's widget.
// One branch of a list of branches: `when user.tier == "gold" -> vip`.
branchField : WHEN expression ARROW dslName ;

// A mapping of names to expressions: `set { tier: "gold", orders: user.orders + 1 }`.
expressionMapField : IDENTIFIER LBRACE ( mapEntry ( COMMA mapEntry )* COMMA? )? RBRACE ;

mapEntry : dslName COLON expression ;

// An A/B variant: `a weight 45 -> sms_a` (`a 45 -> sms_a` reads the same).
// Variant names are not keywords, so a field keyword always starts a field; a
// variant name that is one is written quoted.
// Weight and arrow are optional here so that a typo such as `nxt -> done` in
// another node type parses and gets "unknown field 'nxt'; did you mean 'next'".
variantField : variantName ( WEIGHT? MINUS? NUMBER )? ( ARROW dslName )? ;

variantName : IDENTIFIER | STRING ;

// Error alternatives: a misspelt field keyword (`mtch user.age > 30`) parses so
// that the transformer can say "unknown field 'mtch'; did you mean 'match'".
unknownSetting : IDENTIFIER ( ARROW dslName | expression )? ;

unknownField : IDENTIFIER expression ;

// `72h`, `PT72H`, or any duration quoted.
duration : NUMBER_WITH_UNIT | IDENTIFIER | STRING ;

// Node ids, event types, pools: bare (keywords included) or quoted.
dslName : name | STRING ;

// ============================================================================
// Tokens. Keywords are lower case; `True` is an identifier (the transformer
// suggests `true`).
// ============================================================================

// Flow DSL keywords. Each is also a `name`, so `event.next` reads a property.
FLOW         : 'flow' ;
DESCRIPTION  : 'description' ;
TRIGGER      : 'trigger' ;
WHEN         : 'when' ;
KEY          : 'key' ;
SCHEDULE     : 'schedule' ;
EVERY        : 'every' ;
AUDIENCE     : 'audience' ;
IN_USER_TIME_ZONE : 'in_user_time_zone' ;
RE_ENTRY     : 're_entry' ;
NEVER        : 'never' ;
ALWAYS       : 'always' ;
AFTER        : 'after' ;
EXIT_ON      : 'exit_on' ;
GOAL         : 'goal' ;
WITHIN       : 'within' ;
VALUE        : 'value' ;
START        : 'start' ;
MATCH        : 'match' ;
YES          : 'yes' ;
NO           : 'no' ;
NEXT         : 'next' ;
ON_EVENT     : 'on_event' ;
ON_EXHAUSTED : 'on_exhausted' ;
FOR          : 'for' ;
UNTIL_EVENT  : 'until_event' ;
WHERE        : 'where' ;
POOL         : 'pool' ;
GENERATE     : 'generate' ;
PREFIX       : 'prefix' ;
LENGTH       : 'length' ;
TEXT         : 'text' ;
SUBJECT      : 'subject' ;
BODY         : 'body' ;
URL          : 'url' ;
WEIGHT       : 'weight' ;
CATEGORY     : 'category' ;
PRIORITY     : 'priority' ;
ON_CAP       : 'on_cap' ;
UNTIL_TIME   : 'until_time' ;
ON_DAYS      : 'on_days' ;

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
ARROW   : '->' ;   // flow DSL transitions
MINUS   : '-' ;
STAR    : '*' ;
SLASH   : '/' ;
PERCENT : '%' ;

LBRACE : '{' ;    // flow DSL blocks
RBRACE : '}' ;
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

// `# ...` to the end of the line; the flow DSL keeps comments, so they are hidden,
// not skipped.
COMMENT : '#' ~[\r\n]* -> channel(HIDDEN) ;

// Anything else becomes a token, so the parser (not the lexer) reports it and
// every syntax error goes through one listener.
ERROR_CHARACTER : . ;

fragment DIGITS : [0-9]+ ;
fragment ESCAPE : '\\' . ;
