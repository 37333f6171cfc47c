//! Rendering a draft with tera templates. The defaults (`templates/report.md.tera`,
//! `templates/report.html.tera`) are embedded in the binary; `--templates DIR` replaces either
//! with the file of the same name in DIR. HTML templates escape every value (tera's autoescape);
//! only the charts, which [`super::svg`] builds from escaped text, are inserted with `safe`.
//! Markdown cells go through the `md` filter, which escapes HTML, link brackets and table
//! pipes, since Markdown viewers pass raw HTML through and follow links.

use super::Draft;
use crate::{Error, Result};
use std::borrow::Cow;
use std::path::Path;

/// The kinds of draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Markdown,
    Html,
}

impl Kind {
    /// The template's file name.
    pub fn template(self) -> &'static str {
        match self {
            Kind::Markdown => "report.md.tera",
            Kind::Html => "report.html.tera",
        }
    }

    fn embedded(self) -> &'static str {
        match self {
            Kind::Markdown => include_str!("../../../templates/report.md.tera"),
            Kind::Html => include_str!("../../../templates/report.html.tera"),
        }
    }
}

/// Escapes text for Markdown: what could start HTML (`<` before a letter, `/`, `!` or `?`;
/// `&` before a letter, digit or `#`), the brackets of links and images (`[a](javascript:…)`),
/// table pipes, backslashes (so none can undo an escape), and line breaks (as spaces). A `<`
/// before a space or digit (`p < 0,05`) is left as it is, so the file stays readable.
fn md(value: Cow<'_, str>, _: tera::Kwargs, _: &tera::State) -> String {
    escape_markdown(&value)
}

/// The text of the `md` filter.
fn escape_markdown(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let mut out = String::with_capacity(value.len());
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        match c {
            '<' if next.is_alphabetic() || matches!(next, '/' | '!' | '?') => out.push_str("&lt;"),
            '&' if next.is_alphanumeric() || next == '#' => out.push_str("&amp;"),
            '|' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Renders the draft with the embedded template or the one in `dir`.
pub fn render(draft: &Draft, kind: Kind, dir: Option<&Path>) -> Result<String> {
    let (name, text): (String, Cow<'static, str>) = match dir {
        Some(d) if d.join(kind.template()).is_file() => {
            let path = d.join(kind.template());
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            (path.display().to_string(), Cow::Owned(text))
        }
        Some(d) if !d.is_dir() => {
            return Err(Error::Usage(format!(
                "--templates {}: no such folder",
                d.display()
            )))
        }
        _ => (kind.template().to_string(), Cow::Borrowed(kind.embedded())),
    };
    let mut tera = tera::Tera::default();
    tera.autoescape_on([".html", ".html.tera"]);
    tera.register_filter("md", md);
    let fail = |e: tera::Error| {
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(&format!("\n{s}"));
            source = s.source();
        }
        Error::Usage(format!("template {name}:\n{message}"))
    };
    tera.add_raw_template(&name, &text).map_err(fail)?;
    let context = tera::Context::from_serialize(draft).map_err(fail)?;
    tera.render(&name, &context).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::escape_markdown;

    #[test]
    fn markdown_loses_markup_links_and_cells() {
        assert_eq!(
            escape_markdown("<script>alert(1)</script>"),
            "&lt;script>alert(1)&lt;/script>"
        );
        assert_eq!(
            escape_markdown("[a](javascript:alert(1))"),
            "\\[a\\](javascript:alert(1))"
        );
        assert_eq!(
            escape_markdown("![x](http://x/t.png)"),
            "!\\[x\\](http://x/t.png)"
        );
        assert_eq!(escape_markdown("a|b\\|c"), "a\\|b\\\\\\|c");
        assert_eq!(escape_markdown("&#106;\r\nx"), "&amp;#106;  x");
        assert_eq!(escape_markdown("p < 0,05 & 12,3 %"), "p < 0,05 & 12,3 %");
    }
}
