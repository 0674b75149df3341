//! The deb822 control-file format (Debian Policy §5.1): stanzas of `Field: value`
//! lines separated by blank lines, with continuation lines that start with a
//! space or tab and `#` comment lines.
//!
//! The parser borrows from the text and does no per-line allocation, because a
//! `Packages` file is 50 MB and parsing it is on the hot path.

/// Why a deb822 text does not parse. The caller adds the file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct Deb822Error {
    /// Line number, from 1.
    pub line: usize,
    /// What is wrong.
    pub problem: String,
}

/// One `Name: value` field of a stanza.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    /// The field name as written.
    pub name: &'a str,
    /// The value without surrounding white space. A multi-line value keeps its
    /// inner newlines and the leading space of each continuation line.
    pub value: &'a str,
    /// Line of the field name, from 1.
    pub line: usize,
}

/// A stanza (paragraph): its fields in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stanza<'a> {
    /// Line of the first field, from 1.
    pub line: usize,
    /// Byte offset of the first field in the text.
    pub offset: usize,
    /// The fields in order; names are unique (case-insensitively).
    pub fields: Vec<Field<'a>>,
}

impl<'a> Stanza<'a> {
    /// The field called `name` (field names are case-insensitive).
    pub fn field(&self, name: &str) -> Option<&Field<'a>> {
        self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The value of the field called `name`.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.field(name).map(|f| f.value)
    }
}

/// An iterator over the stanzas of a deb822 text.
pub struct Parser<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    failed: bool,
}

/// Parses `text` as deb822 stanzas, starting at line 1.
pub fn parse(text: &str) -> Parser<'_> {
    parse_from(text, 0, 1)
}

/// Parses `text` from byte `offset`, which is at line `line`: re-reads one
/// stanza whose position is known (e.g. to find a field's line for an error).
pub fn parse_from(text: &str, offset: usize, line: usize) -> Parser<'_> {
    Parser {
        text,
        pos: offset.min(text.len()),
        line,
        failed: false,
    }
}

impl<'a> Parser<'a> {
    /// Takes the next line without its newline; `None` at the end.
    fn next_line(&mut self) -> Option<(usize, &'a str)> {
        if self.pos >= self.text.len() {
            return None;
        }
        let rest = &self.text[self.pos..];
        let len = memchr::memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len());
        let start = self.pos;
        self.pos += (len + 1).min(rest.len());
        self.line += 1;
        Some((start, &rest[..len]))
    }

    fn error(&mut self, line: usize, problem: String) -> Option<Result<Stanza<'a>, Deb822Error>> {
        self.failed = true;
        Some(Err(Deb822Error { line, problem }))
    }
}

fn is_blank(line: &str) -> bool {
    line.bytes().all(|c| c == b' ' || c == b'\t' || c == b'\r')
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Stanza<'a>, Deb822Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let mut stanza: Option<Stanza<'a>> = None;
        // Byte range of the open field's value in `text`.
        let mut open: Option<(usize, usize)> = None;
        loop {
            let Some((start, line)) = self.next_line() else { break };
            let number = self.line - 1;
            let first = line.as_bytes().first().copied();
            if first == Some(b'#') {
                continue;
            }
            if is_blank(line) {
                if stanza.is_some() {
                    break;
                }
                continue;
            }
            if first == Some(b' ') || first == Some(b'\t') {
                match (&mut stanza, &mut open) {
                    (Some(_), Some((_, end))) => *end = start + line.len(),
                    _ => {
                        return self.error(number, "continuation line outside a field".to_owned())
                    }
                }
                continue;
            }
            let Some(colon) = memchr::memchr(b':', line.as_bytes()) else {
                return self.error(number, format!("expected `Field: value`, found {:?}", truncate(line)));
            };
            let name = &line[..colon];
            if name.is_empty() || name.bytes().any(|c| c <= b' ' || c == 0x7f) {
                return self.error(number, format!("bad field name {:?}", truncate(name)));
            }
            let st = stanza.get_or_insert_with(|| Stanza {
                line: number,
                offset: start,
                fields: Vec::with_capacity(24),
            });
            if let Some((from, to)) = open.take() {
                close_field(self.text, st, from, to);
            }
            if st.fields.iter().any(|f| f.name.eq_ignore_ascii_case(name)) {
                return self.error(number, format!("field {name} appears twice in one stanza"));
            }
            st.fields.push(Field {
                name,
                value: "",
                line: number,
            });
            open = Some((start + colon + 1, start + line.len()));
        }
        if let (Some(st), Some((from, to))) = (&mut stanza, open) {
            close_field(self.text, st, from, to);
        }
        stanza.map(Ok)
    }
}

fn close_field<'a>(text: &'a str, stanza: &mut Stanza<'a>, from: usize, to: usize) {
    let field = stanza.fields.last_mut().expect("an open field was pushed");
    field.value = text[from..to].trim();
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(60) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanzas_fields_and_lines() {
        let text = "# comment\nPackage: a\nDepends: b,\n c\n\n\n \nPackage: b\r\nDescription: x\n .\n y\n";
        let st: Vec<_> = parse(text).collect::<Result<_, _>>().unwrap();
        assert_eq!(st.len(), 2);
        assert_eq!(st[0].line, 2);
        assert_eq!(st[0].get("depends"), Some("b,\n c"));
        assert_eq!(st[0].field("Depends").unwrap().line, 3);
        assert_eq!(st[1].line, 8);
        assert_eq!(st[1].get("Package"), Some("b"));
        assert_eq!(st[1].get("Description"), Some("x\n .\n y"));
        let again: Vec<_> = parse_from(text, st[1].offset, st[1].line).collect();
        assert_eq!(again, vec![Ok(st[1].clone())]);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("Package: a\nno colon here\n", 2),
            (" leading continuation\n", 1),
            ("Package: a\n\nPackage: b\nPackage: c\n", 4),
            ("A: 1\n: 2\n", 2),
        ];
        for (text, line) in cases {
            let err = parse(text).find_map(Result::err).expect(text);
            assert_eq!(err.line, line, "{text:?}: {err}");
        }
    }

    #[test]
    fn empty_values_and_no_trailing_newline() {
        let st: Vec<_> = parse("A:\nB:   v  ").collect::<Result<_, _>>().unwrap();
        assert_eq!(st[0].get("A"), Some(""));
        assert_eq!(st[0].get("B"), Some("v"));
    }
}
