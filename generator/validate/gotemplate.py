"""A parser for the Go text/template subset Prometheus alert annotations use.

Prometheus expands every label and annotation of an alert as a Go template,
after a preamble that defines `$labels`, `$externalLabels`, `$externalURL` and
`$value`. Go checks templates when the rule file loads; this module reports the
same errors offline (unclosed actions, unknown functions, undefined variables,
unbalanced `if`/`range`/`end`, non-executable pipeline stages) and collects the
labels a template reads (`$labels.x`, `.Labels.x`, `index $labels "x"`), so a
check can compare them with the labels the alert expression keeps.
"""
from __future__ import annotations

from dataclasses import dataclass, field

# Go's builtins (text/template funcs.go) and Prometheus's (template/template.go).
FUNCTIONS = frozenset({
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println",
    "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
    "query", "first", "label", "value", "strvalue", "args", "reReplaceAll", "safeHtml", "match", "title",
    "toUpper", "toLower", "graphLink", "tableLink", "sortByLabel", "humanize", "humanize1024",
    "humanizeDuration", "humanizePercentage", "humanizeTimestamp", "toTime", "toDuration", "now",
    "pathPrefix", "externalURL", "parseDuration", "stripPort", "stripDomain",
})
PREAMBLE_VARIABLES = frozenset({"$", "$labels", "$externalLabels", "$externalURL", "$value"})
KEYWORDS = frozenset({"if", "else", "end", "range", "with", "define", "template", "block", "break", "continue"})
_ESCAPES = set("abfnrtv\\'\"01234567xuU")


class TemplateError(Exception):
    """The template does not parse; the message says why, as Go would."""


@dataclass
class Parsed:
    labels: list[str] = field(default_factory=list)  # label names read through $labels / .Labels
    uses_value: bool = False


@dataclass(frozen=True)
class _Token:
    # string, number, char, bool, nil, var, field, ident, keyword, pipe, lparen, rparen, decl, assign, comma, dot
    kind: str
    text: str
    value: str = ""  # unquoted string constants


def parse(text: str) -> Parsed:
    """Parse one annotation or label value; raise TemplateError on the first error."""
    result = Parsed()
    parser = _Parser(result)
    for tokens in _actions(text):
        parser.action(tokens)
    parser.finish()
    return result


# -- lexer -----------------------------------------------------------------


def _actions(text: str):
    """The token list of each `{{ ... }}` action, comments skipped."""
    i, n = 0, len(text)
    while True:
        start = text.find("{{", i)
        if start < 0:
            return
        i = start + 2
        if text.startswith("-", i) and i + 1 < n and text[i + 1] in " \t\r\n":
            i += 2
        while i < n and text[i] in " \t\r\n":
            i += 1
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise TemplateError("unclosed comment")
            i = end + 2
            rest = text[i:]
            stripped = rest.lstrip(" \t\r\n")
            if stripped.startswith("-}}") and rest[:1] in " \t\r\n":
                stripped = stripped[1:]
            if not stripped.startswith("}}"):
                raise TemplateError("comment ends before closing delimiter")
            i = n - len(stripped) + 2
            continue
        tokens, i = _lex_action(text, i)
        yield tokens


def _lex_action(text: str, i: int) -> tuple[list[_Token], int]:
    tokens: list[_Token] = []
    n = len(text)
    while True:
        if i >= n:
            raise TemplateError("unclosed action")
        c = text[i]
        if text.startswith("}}", i):
            return tokens, i + 2
        if c in " \t\r\n":
            j = i
            while j < n and text[j] in " \t\r\n":
                j += 1
            if text.startswith("-}}", j):
                return tokens, j + 3
            i = j
            continue
        if c == "|":
            tokens.append(_Token("pipe", c))
            i += 1
        elif c == "(":
            tokens.append(_Token("lparen", c))
            i += 1
        elif c == ")":
            tokens.append(_Token("rparen", c))
            i += 1
        elif c == ",":
            tokens.append(_Token("comma", c))
            i += 1
        elif text.startswith(":=", i):
            tokens.append(_Token("decl", ":="))
            i += 2
        elif c == "=":
            tokens.append(_Token("assign", "="))
            i += 1
        elif c == '"':
            j, value = _quoted(text, i, '"')
            tokens.append(_Token("string", text[i:j], value))
            i = j
        elif c == "`":
            j = text.find("`", i + 1)
            if j < 0:
                raise TemplateError("unterminated raw quoted string")
            tokens.append(_Token("string", text[i:j + 1], text[i + 1:j]))
            i = j + 1
        elif c == "'":
            j, value = _quoted(text, i, "'")
            tokens.append(_Token("char", text[i:j], value))
            i = j
        elif c == "$":
            j = _word_end(text, i + 1)
            tokens.append(_Token("var", text[i:j]))
            i = j
        elif c == "." and not (i + 1 < n and text[i + 1].isdigit()):
            j = _word_end(text, i + 1)
            tokens.append(_Token("field" if j > i + 1 else "dot", text[i:j]))
            i = j
        elif c.isdigit() or (c in "+-." and i + 1 < n and (text[i + 1].isdigit() or text[i + 1] == ".")):
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "._+-"):
                if text[j] in "+-" and text[j - 1] not in "eEpP":
                    break
                j += 1
            tokens.append(_Token("number", text[i:j]))
            i = j
        elif c.isalpha() or c == "_":
            j = _word_end(text, i)
            word = text[i:j]
            kind = "keyword" if word in KEYWORDS else "bool" if word in ("true", "false") else \
                "nil" if word == "nil" else "ident"
            tokens.append(_Token(kind, word))
            i = j
        else:
            raise TemplateError(f"unrecognized character in action: {c!r}")
        # A field chain directly after a term (`$labels.x`, `(...).y`) is one more token.
        while i < n and text[i] == "." and tokens and tokens[-1].kind in ("var", "field", "rparen", "chain"):
            j = _word_end(text, i + 1)
            if j == i + 1:
                raise TemplateError("bad character after '.'")
            tokens.append(_Token("chain", text[i:j]))
            i = j


def _word_end(text: str, i: int) -> int:
    while i < len(text) and (text[i].isalnum() or text[i] == "_"):
        i += 1
    return i


def _quoted(text: str, i: int, quote: str) -> tuple[int, str]:
    j, out = i + 1, []
    while j < len(text):
        c = text[j]
        if c == "\\":
            if j + 1 >= len(text) or text[j + 1] not in _ESCAPES:
                raise TemplateError(f"invalid escape in quoted string: {text[j:j + 2]!r}")
            out.append(text[j + 1])
            j += 2
            continue
        if c == "\n":
            break
        if c == quote:
            return j + 1, "".join(out)
        out.append(c)
        j += 1
    raise TemplateError("unterminated quoted string" if quote == '"' else "unterminated character constant")


# -- parser ----------------------------------------------------------------


class _Parser:
    def __init__(self, result: Parsed):
        self.result = result
        self.blocks: list[str] = []  # open if/range/with/define/block
        self.scopes: list[set[str]] = [set(PREAMBLE_VARIABLES)]
        self.dot_is_data = [True]  # inside range/with, `.` is no longer the alert

    def finish(self):
        if self.blocks:
            raise TemplateError(f"unexpected EOF: {{{{{self.blocks[-1]}}}}} has no {{{{end}}}}")

    def action(self, tokens: list[_Token]):
        if not tokens:
            raise TemplateError("missing value for command")
        head = tokens[0]
        if head.kind != "keyword":
            self.pipeline(tokens, "command", allow_decl=True)
            return
        word, rest = head.text, tokens[1:]
        if word in ("if", "with", "range"):
            self.blocks.append(word)
            self.scopes.append(set())
            self.pipeline(rest, word, allow_decl=True, range_decl=word == "range")
            self.dot_is_data.append(self.dot_is_data[-1] and word == "if")
        elif word in ("define", "block"):
            if not rest or rest[0].kind != "string":
                raise TemplateError(f"{word} clause needs a template name string")
            if word == "block":
                self.pipeline(rest[1:], word, allow_decl=False) if rest[1:] else None
            self.blocks.append(word)
            self.scopes.append(set(PREAMBLE_VARIABLES) if word == "define" else set())
            self.dot_is_data.append(word == "block" and self.dot_is_data[-1])
        elif word == "else":
            if not self.blocks or self.blocks[-1] not in ("if", "with", "range"):
                raise TemplateError("unexpected {{else}}")
            if rest:
                if rest[0].kind == "keyword" and rest[0].text in ("if", "with") and rest[0].text == self.blocks[-1]:
                    self.pipeline(rest[1:], f"else {rest[0].text}", allow_decl=True)
                else:
                    raise TemplateError("unexpected tokens after {{else}}")
            self.scopes[-1] = set()
        elif word == "end":
            if rest:
                raise TemplateError("unexpected tokens after {{end}}")
            if not self.blocks:
                raise TemplateError("unexpected {{end}}")
            self.blocks.pop()
            self.scopes.pop()
            self.dot_is_data.pop()
        elif word == "template":
            if not rest or rest[0].kind != "string":
                raise TemplateError("template clause needs a template name string")
            if rest[1:]:
                self.pipeline(rest[1:], "template", allow_decl=False)
        elif word in ("break", "continue"):
            if rest:
                raise TemplateError(f"unexpected tokens after {{{{{word}}}}}")
            if "range" not in self.blocks:
                raise TemplateError(f"{{{{{word}}}}} outside {{{{range}}}}")

    def defined(self, name: str) -> bool:
        return any(name in scope for scope in self.scopes)

    def pipeline(self, tokens: list[_Token], context: str, allow_decl: bool, range_decl: bool = False):
        declared: list[_Token] = []
        i = 0
        # `$x :=`, `$x =`, or in range `$i, $e :=`
        if allow_decl and len(tokens) >= 2 and tokens[0].kind == "var":
            if tokens[1].kind in ("decl", "assign"):
                declared, i = [tokens[0]], 2
            elif range_decl and tokens[1].kind == "comma" and len(tokens) >= 4 and tokens[2].kind == "var" \
                    and tokens[3].kind in ("decl", "assign"):
                declared, i = [tokens[0], tokens[2]], 4
        for var in declared:
            if tokens[i - 1].kind == "assign" and not self.defined(var.text):
                raise TemplateError(f"undefined variable {var.text!r}")
        commands = _split(tokens[i:], "pipe")
        if any(not cmd for cmd in commands):
            raise TemplateError(f"missing value for {context}")
        for stage, cmd in enumerate(commands):
            self.command(cmd)
            if stage > 0 and cmd[0].kind in ("bool", "dot", "nil", "number", "string", "char"):
                raise TemplateError(f"non executable command in pipeline stage {stage + 1}")
        for var in declared:
            self.scopes[-1].add(var.text)

    def command(self, tokens: list[_Token]):
        i = 0
        operands = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok.kind == "lparen":
                depth, j = 1, i + 1
                while j < len(tokens) and depth:
                    depth += {"lparen": 1, "rparen": -1}.get(tokens[j].kind, 0)
                    j += 1
                if depth:
                    raise TemplateError("unclosed left paren")
                self.pipeline(tokens[i + 1:j - 1], "parenthesized pipeline", allow_decl=False)
                i = j
            elif tok.kind == "rparen":
                raise TemplateError("unexpected right paren")
            elif tok.kind == "ident":
                if tok.text not in FUNCTIONS:
                    raise TemplateError(f'function "{tok.text}" not defined')
                if tok.text == "index" and i == 0:
                    self._index_label(tokens)
                i += 1
            elif tok.kind == "var":
                if not self.defined(tok.text):
                    raise TemplateError(f"undefined variable {tok.text!r}")
                if tok.text == "$value":
                    self.result.uses_value = True
                chain = tokens[i + 1].text if i + 1 < len(tokens) and tokens[i + 1].kind == "chain" else ""
                if tok.text == "$labels" and chain:
                    self.result.labels.append(chain[1:].split(".")[0])
                i += 1
            elif tok.kind == "field":
                if tok.text.startswith(".Labels.") and self.dot_is_data[-1]:
                    self.result.labels.append(tok.text.split(".")[2])
                if tok.text == ".Labels" and self.dot_is_data[-1] and i + 1 < len(tokens) \
                        and tokens[i + 1].kind == "chain":
                    self.result.labels.append(tokens[i + 1].text[1:].split(".")[0])
                if tok.text == ".Value":
                    self.result.uses_value = True
                i += 1
            elif tok.kind == "chain":
                if i == 0 or tokens[i - 1].kind not in ("var", "field", "rparen", "chain"):
                    raise TemplateError(f"unexpected {tok.text!r}")
                i += 1
            elif tok.kind in ("keyword", "decl", "assign", "comma", "pipe"):
                raise TemplateError(f"unexpected {tok.text!r} in command")
            elif tok.kind == "nil" and len(tokens) == 1:
                raise TemplateError("nil is not a command")
            else:
                i += 1
            operands += 1
        if not operands:
            raise TemplateError("empty command")

    def _index_label(self, tokens: list[_Token]):
        """`index $labels "name"` reads a label too."""
        if len(tokens) >= 3 and tokens[1].kind == "var" and tokens[1].text == "$labels" \
                and tokens[2].kind == "string":
            self.result.labels.append(tokens[2].value)


def _split(tokens: list[_Token], kind: str) -> list[list[_Token]]:
    """Split on `kind` tokens outside parentheses."""
    parts: list[list[_Token]] = [[]]
    depth = 0
    for tok in tokens:
        if tok.kind == "lparen":
            depth += 1
        elif tok.kind == "rparen":
            depth -= 1
        if tok.kind == kind and depth == 0:
            parts.append([])
        else:
            parts[-1].append(tok)
    return parts
