//! Row filters: the small expression language of `--subset`, instrument universes (skip
//! logic) and derived-variable rules.
//!
//! ```text
//! q5 == 1 and (age >= 30 or origin in (2, 3)) and not is_missing(q7)
//! gender != "female"      area not in (1, 2)      is_missing(q9)
//! ```
//!
//! Comparisons with a missing value are *unknown*, combined with three-valued logic
//! (`not unknown` is unknown), and an unknown row is outside the filter — as R's `subset()`
//! treats `NA`. A quoted value compared with a numeric column is read as a number, or as the
//! code of a matching value label.

use super::{ColumnData, Table, MISSING_CODE};
use std::fmt;

/// A syntax error in a filter, with the character position where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub expression: String,
    pub position: usize,
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "in the filter `{}`: {} (at character {})",
            self.expression,
            self.message,
            self.position + 1
        )
    }
}

/// A constant in a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Text(String),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number(x) => write!(f, "{}", super::format_number(*x)),
            Value::Text(s) => write!(f, "\"{s}\""),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Compare {
        var: String,
        op: Op,
        value: Value,
    },
    In {
        var: String,
        values: Vec<Value>,
        negated: bool,
    },
    IsMissing(String),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// Three-valued truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    False,
    True,
    Unknown,
}

/// A parsed filter and its source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub text: String,
    pub expr: Expr,
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Filter {
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let tokens = tokenize(text)?;
        let mut p = Parser {
            text,
            tokens,
            pos: 0,
        };
        if p.tokens.is_empty() {
            return Err(p.error_at(0, "the filter is empty"));
        }
        let expr = p.or()?;
        if let Some(t) = p.tokens.get(p.pos) {
            let msg = match &t.kind {
                Tok::Assign => "use `==` to compare".to_string(),
                _ => format!("unexpected `{}`; expected `and`, `or` or the end", t.text),
            };
            return Err(p.error_at(t.start, &msg));
        }
        Ok(Filter {
            text: text.to_string(),
            expr,
        })
    }

    /// The variables the filter reads, in order of appearance, without repeats.
    pub fn variables(&self) -> Vec<&str> {
        let mut out = Vec::new();
        collect_vars(&self.expr, &mut out);
        out
    }

    /// Which rows pass (unknown counts as not passing).
    pub fn evaluate(&self, table: &Table) -> crate::Result<Vec<bool>> {
        Ok(self
            .evaluate_tri(table)?
            .into_iter()
            .map(|t| t == Tri::True)
            .collect())
    }

    /// Three-valued result per row.
    pub fn evaluate_tri(&self, table: &Table) -> crate::Result<Vec<Tri>> {
        eval(&self.expr, table, self)
    }
}

fn collect_vars<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
    let mut add = |v: &'a str| {
        if !out.contains(&v) {
            out.push(v)
        }
    };
    match e {
        Expr::Compare { var, .. } | Expr::In { var, .. } | Expr::IsMissing(var) => add(var),
        Expr::Not(a) => collect_vars(a, out),
        Expr::And(a, b) | Expr::Or(a, b) => {
            collect_vars(a, out);
            collect_vars(b, out);
        }
    }
}

fn eval(e: &Expr, t: &Table, f: &Filter) -> crate::Result<Vec<Tri>> {
    match e {
        Expr::Compare { var, op, value } => compare(
            t,
            var,
            f,
            || {
                // The constant is read once, not once a row.
                let v = numeric_value(t, var, value, f)?;
                let op = *op;
                Ok(move |x: f64| {
                    v.is_some_and(|v| match op {
                        Op::Eq => x == v,
                        Op::Ne => x != v,
                        Op::Lt => x < v,
                        Op::Le => x <= v,
                        Op::Gt => x > v,
                        Op::Ge => x >= v,
                    })
                })
            },
            |s| {
                let v = text_value(value);
                match op {
                    Op::Eq => Ok(s == v),
                    Op::Ne => Ok(s != v),
                    _ => Err(usage(
                        f,
                        format!("`{var}` is a text column; only `==`, `!=` and `in` compare text"),
                    )),
                }
            },
        ),
        Expr::In {
            var,
            values,
            negated,
        } => compare(
            t,
            var,
            f,
            || {
                let mut numbers = Vec::with_capacity(values.len());
                for v in values {
                    numbers.extend(numeric_value(t, var, v, f)?);
                }
                Ok(move |x: f64| numbers.contains(&x) != *negated)
            },
            |s| Ok(values.iter().any(|v| text_value(v) == s) != *negated),
        ),
        Expr::IsMissing(var) => {
            let col = t.require(var)?;
            Ok((0..t.nrows()).map(|i| tri(col.is_missing(i))).collect())
        }
        Expr::Not(a) => Ok(eval(a, t, f)?
            .into_iter()
            .map(|x| match x {
                Tri::True => Tri::False,
                Tri::False => Tri::True,
                Tri::Unknown => Tri::Unknown,
            })
            .collect()),
        Expr::And(a, b) => {
            let (a, b) = (eval(a, t, f)?, eval(b, t, f)?);
            Ok(a.into_iter()
                .zip(b)
                .map(|p| match p {
                    (Tri::False, _) | (_, Tri::False) => Tri::False,
                    (Tri::True, Tri::True) => Tri::True,
                    _ => Tri::Unknown,
                })
                .collect())
        }
        Expr::Or(a, b) => {
            let (a, b) = (eval(a, t, f)?, eval(b, t, f)?);
            Ok(a.into_iter()
                .zip(b)
                .map(|p| match p {
                    (Tri::True, _) | (_, Tri::True) => Tri::True,
                    (Tri::False, Tri::False) => Tri::False,
                    _ => Tri::Unknown,
                })
                .collect())
        }
    }
}

fn tri(b: bool) -> Tri {
    if b {
        Tri::True
    } else {
        Tri::False
    }
}

/// Applies a test to every non-missing cell of `var`; missing cells are unknown. A numeric
/// column's test is made once (`numeric`: its constants read, or the error that they do not
/// read); a text column's test (`text`) is resolved once per distinct level.
fn compare<N: Fn(f64) -> bool>(
    t: &Table,
    var: &str,
    f: &Filter,
    numeric: impl FnOnce() -> crate::Result<N>,
    mut text: impl FnMut(&str) -> crate::Result<bool>,
) -> crate::Result<Vec<Tri>> {
    let col = t.column(var).ok_or_else(|| unknown_var(t, var, f))?;
    match &col.data {
        ColumnData::Num(v) => {
            let test = numeric()?;
            Ok(v.iter()
                .map(|&x| {
                    if x.is_nan() {
                        Tri::Unknown
                    } else {
                        tri(test(x))
                    }
                })
                .collect())
        }
        ColumnData::Cat { codes, levels } => {
            let per_level: Vec<Tri> = levels
                .iter()
                .map(|l| text(l).map(tri))
                .collect::<crate::Result<_>>()?;
            if levels.is_empty() {
                text("")?;
            }
            Ok(codes
                .iter()
                .map(|&c| {
                    if c == MISSING_CODE {
                        Tri::Unknown
                    } else {
                        per_level[c as usize]
                    }
                })
                .collect())
        }
    }
}

fn unknown_var(t: &Table, var: &str, f: &Filter) -> crate::Error {
    match t.unknown_column(var) {
        crate::Error::Input {
            location,
            value,
            problem,
        } => crate::Error::Input {
            location,
            value,
            problem: format!("{problem} (used in the filter `{}`)", f.text),
        },
        other => other,
    }
}

fn usage(f: &Filter, msg: String) -> crate::Error {
    crate::Error::Usage(format!("in the filter `{}`: {msg}", f.text))
}

fn text_value(v: &Value) -> String {
    match v {
        Value::Number(x) => super::format_number(*x),
        Value::Text(s) => s.clone(),
    }
}

/// The number a constant stands for when compared with numeric column `var`.
fn numeric_value(t: &Table, var: &str, v: &Value, f: &Filter) -> crate::Result<Option<f64>> {
    match v {
        Value::Number(x) => Ok(Some(*x)),
        Value::Text(s) => {
            if let Some(x) = super::sniff::parse_number(s, false) {
                return Ok(Some(x));
            }
            let col = t.require(var)?;
            if let Some((code, _)) = col
                .value_labels
                .iter()
                .find(|(_, l)| l.eq_ignore_ascii_case(s))
            {
                return Ok(Some(*code));
            }
            Err(usage(
                f,
                format!("`{var}` is numeric, and \"{s}\" is neither a number nor one of its value labels"),
            ))
        }
    }
}

// ---- tokenizer and parser ----

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Number(f64),
    Str(String),
    Op(Op),
    Assign,
    LParen,
    RParen,
    Comma,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Tok,
    start: usize,
    text: String,
}

fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let err = |pos: usize, msg: &str| FilterError {
        expression: text.to_string(),
        position: pos,
        message: msg.to_string(),
    };
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        let char_pos = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let single = |kind: Tok| Token {
            kind,
            start: char_pos,
            text: c.to_string(),
        };
        match c {
            '(' => {
                out.push(single(Tok::LParen));
                i += 1;
            }
            ')' => {
                out.push(single(Tok::RParen));
                i += 1;
            }
            ',' => {
                out.push(single(Tok::Comma));
                i += 1;
            }
            '=' | '!' | '<' | '>' => {
                let next = chars.get(i + 1).map(|&(_, c)| c);
                let (kind, len) = match (c, next) {
                    ('=', Some('=')) => (Tok::Op(Op::Eq), 2),
                    ('!', Some('=')) => (Tok::Op(Op::Ne), 2),
                    ('<', Some('=')) => (Tok::Op(Op::Le), 2),
                    ('>', Some('=')) => (Tok::Op(Op::Ge), 2),
                    ('<', _) => (Tok::Op(Op::Lt), 1),
                    ('>', _) => (Tok::Op(Op::Gt), 1),
                    ('=', _) => (Tok::Assign, 1),
                    _ => {
                        return Err(err(
                            char_pos,
                            "`!` must be followed by `=`; use `not` to negate",
                        ))
                    }
                };
                let end = chars.get(i + len).map_or(text.len(), |&(b, _)| b);
                out.push(Token {
                    kind,
                    start: char_pos,
                    text: text[start..end].to_string(),
                });
                i += len;
            }
            '"' | '\'' => {
                let mut j = i + 1;
                let mut s = String::new();
                while j < chars.len() && chars[j].1 != c {
                    s.push(chars[j].1);
                    j += 1;
                }
                if j >= chars.len() {
                    return Err(err(char_pos, "the quoted value is not closed"));
                }
                out.push(Token {
                    kind: Tok::Str(s.clone()),
                    start: char_pos,
                    text: format!("{c}{s}{c}"),
                });
                i = j + 1;
            }
            '`' => {
                let mut j = i + 1;
                let mut s = String::new();
                while j < chars.len() && chars[j].1 != '`' {
                    s.push(chars[j].1);
                    j += 1;
                }
                if j >= chars.len() {
                    return Err(err(char_pos, "the back-quoted name is not closed"));
                }
                out.push(Token {
                    kind: Tok::Ident(s.clone()),
                    start: char_pos,
                    text: s,
                });
                i = j + 1;
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                let mut j = i + 1;
                while j < chars.len() {
                    let d = chars[j].1;
                    let prev = chars[j - 1].1;
                    if d.is_ascii_digit()
                        || d == '.'
                        || d == 'e'
                        || d == 'E'
                        || ((d == '-' || d == '+') && (prev == 'e' || prev == 'E'))
                    {
                        j += 1;
                    } else {
                        break;
                    }
                }
                let s: String = chars[i..j].iter().map(|&(_, c)| c).collect();
                let x: f64 = s
                    .parse()
                    .map_err(|_| err(char_pos, &format!("`{s}` is not a number")))?;
                out.push(Token {
                    kind: Tok::Number(x),
                    start: char_pos,
                    text: s,
                });
                i = j;
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while j < chars.len()
                    && (chars[j].1.is_alphanumeric() || chars[j].1 == '_' || chars[j].1 == '.')
                {
                    j += 1;
                }
                let s: String = chars[i..j].iter().map(|&(_, c)| c).collect();
                out.push(Token {
                    kind: Tok::Ident(s.clone()),
                    start: char_pos,
                    text: s,
                });
                i = j;
            }
            _ => return Err(err(char_pos, &format!("unexpected character `{c}`"))),
        }
    }
    Ok(out)
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn error_at(&self, position: usize, message: &str) -> FilterError {
        FilterError {
            expression: self.text.to_string(),
            position,
            message: message.to_string(),
        }
    }

    fn end_pos(&self) -> usize {
        self.text.chars().count()
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token { kind: Tok::Ident(s), .. }) if s.eq_ignore_ascii_case(kw))
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.peek_keyword("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.not()?;
        while self.peek_keyword("and") {
            self.pos += 1;
            let right = self.not()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, FilterError> {
        if self.peek_keyword("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn next(&mut self, what: &str) -> Result<Token, FilterError> {
        match self.tokens.get(self.pos) {
            Some(t) => {
                self.pos += 1;
                Ok(t.clone())
            }
            None => Err(self.error_at(
                self.end_pos(),
                &format!("the filter ends where {what} was expected"),
            )),
        }
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        let t = self.next("a comparison")?;
        match t.kind {
            Tok::LParen => {
                let e = self.or()?;
                let close = self.next("`)`")?;
                if close.kind != Tok::RParen {
                    return Err(self.error_at(
                        close.start,
                        &format!("expected `)`, found `{}`", close.text),
                    ));
                }
                Ok(e)
            }
            Tok::Ident(name) if name.eq_ignore_ascii_case("is_missing") => {
                let open = self.next("`(`")?;
                if open.kind != Tok::LParen {
                    return Err(self.error_at(open.start, "expected `(` after is_missing"));
                }
                let var = self.next("a variable name")?;
                let Tok::Ident(v) = var.kind else {
                    return Err(
                        self.error_at(var.start, "expected a variable name inside is_missing( )")
                    );
                };
                let close = self.next("`)`")?;
                if close.kind != Tok::RParen {
                    return Err(self.error_at(close.start, "expected `)`"));
                }
                Ok(Expr::IsMissing(v))
            }
            Tok::Ident(var) => {
                if ["and", "or", "in"]
                    .iter()
                    .any(|k| var.eq_ignore_ascii_case(k))
                {
                    return Err(
                        self.error_at(t.start, &format!("expected a variable name, found `{var}`"))
                    );
                }
                let op = self.next("a comparison operator")?;
                match op.kind {
                    Tok::Op(op) => {
                        let value = self.value()?;
                        Ok(Expr::Compare { var, op, value })
                    }
                    Tok::Assign => Err(self.error_at(op.start, "use `==` to compare")),
                    Tok::Ident(ref k) if k.eq_ignore_ascii_case("in") => {
                        Ok(Expr::In { var, values: self.list()?, negated: false })
                    }
                    Tok::Ident(ref k) if k.eq_ignore_ascii_case("not") => {
                        let kw = self.next("`in`")?;
                        if !matches!(kw.kind, Tok::Ident(ref s) if s.eq_ignore_ascii_case("in")) {
                            return Err(self.error_at(kw.start, "expected `in` after `not`"));
                        }
                        Ok(Expr::In { var, values: self.list()?, negated: true })
                    }
                    _ => Err(self.error_at(
                        op.start,
                        &format!("expected a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`, `in`) after `{var}`, found `{}`", op.text),
                    )),
                }
            }
            _ => Err(self.error_at(
                t.start,
                &format!("expected a variable name, found `{}`", t.text),
            )),
        }
    }

    fn value(&mut self) -> Result<Value, FilterError> {
        let t = self.next("a value")?;
        match t.kind {
            Tok::Number(x) => Ok(Value::Number(x)),
            Tok::Str(s) => Ok(Value::Text(s)),
            Tok::Ident(s) => Err(self.error_at(
                t.start,
                &format!("expected a number or a quoted value, found `{s}` (quote text: \"{s}\")"),
            )),
            _ => Err(self.error_at(t.start, &format!("expected a value, found `{}`", t.text))),
        }
    }

    fn list(&mut self) -> Result<Vec<Value>, FilterError> {
        let open = self.next("`(`")?;
        if open.kind != Tok::LParen {
            return Err(self.error_at(open.start, "expected `(` to start the list of values"));
        }
        let mut values = vec![self.value()?];
        loop {
            let t = self.next("`,` or `)`")?;
            match t.kind {
                Tok::Comma => values.push(self.value()?),
                Tok::RParen => return Ok(values),
                _ => {
                    return Err(
                        self.error_at(t.start, &format!("expected `,` or `)`, found `{}`", t.text))
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Column;

    fn table() -> Table {
        let mut t = Table::from_columns(vec![
            Column::num("x", vec![1.0, 2.0, f64::NAN, 4.0]),
            Column::cat_from_strings("g", &[Some("a"), Some("b"), Some("a"), None]),
        ])
        .unwrap();
        t.column_mut("x").unwrap().value_labels = vec![(1.0, "yes".into()), (2.0, "no".into())];
        t
    }

    fn rows(f: &str) -> Vec<bool> {
        Filter::parse(f).unwrap().evaluate(&table()).unwrap()
    }

    #[test]
    fn comparisons_and_missing() {
        assert_eq!(rows("x == 1"), [true, false, false, false]);
        assert_eq!(rows("x != 1"), [false, true, false, true]);
        assert_eq!(rows("not x == 1"), [false, true, false, true]);
        assert_eq!(rows("x >= 2 or g == \"a\""), [true, true, true, true]);
        assert_eq!(
            rows("is_missing(x) or is_missing(g)"),
            [false, false, true, true]
        );
        assert_eq!(rows("g not in ('a')"), [false, true, false, false]);
        assert_eq!(
            rows("x in (1, 4) and g == 'a'"),
            [true, false, false, false]
        );
        assert_eq!(rows("x == \"yes\""), [true, false, false, false]);
        assert_eq!(
            rows("(x < 2 or x > 3) AND NOT g == 'b'"),
            [true, false, false, false]
        );
    }

    #[test]
    fn unknown_or_true_is_true() {
        assert_eq!(rows("x == 1 or g == 'a'"), [true, false, true, false]);
    }

    #[test]
    fn syntax_errors_name_the_position() {
        let e = Filter::parse("x = 1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "in the filter `x = 1`: use `==` to compare (at character 3)"
        );
        let e = Filter::parse("x == ").unwrap_err();
        assert!(e.message.contains("ends where a value"), "{e}");
        let e = Filter::parse("x == 1 and (y > 2").unwrap_err();
        assert!(e.message.contains("`)`"), "{e}");
        let e = Filter::parse("g == abc").unwrap_err();
        assert!(e.message.contains("quote text"), "{e}");
    }

    #[test]
    fn evaluation_errors() {
        let t = table();
        let e = Filter::parse("nope == 1")
            .unwrap()
            .evaluate(&t)
            .unwrap_err();
        assert!(e.to_string().contains("no such column"), "{e}");
        let e = Filter::parse("g < 'a'").unwrap().evaluate(&t).unwrap_err();
        assert!(e.to_string().contains("text column"), "{e}");
        let e = Filter::parse("x == 'maybe'")
            .unwrap()
            .evaluate(&t)
            .unwrap_err();
        assert!(e.to_string().contains("neither a number"), "{e}");
    }

    #[test]
    fn variables_are_listed_once() {
        let f = Filter::parse("a == 1 and (b == 2 or a == 3)").unwrap();
        assert_eq!(f.variables(), ["a", "b"]);
    }
}
