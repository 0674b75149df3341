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

impl Deb822Error {
    /// What the user can do about it: nothing beyond what the message
    /// says; the caller names the file.
    pub fn hint(&self) -> Option<String> {
        None
    }
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
    end: usize,
    line: usize,
    failed: bool,
    check_duplicates: bool,
}

/// Parses `text` as deb822 stanzas, starting at line 1.
pub fn parse(text: &str) -> Parser<'_> {
    parse_from(text, 0, 1)
}

/// Parses `text` from byte `offset`, which is at line `line`: re-reads a
/// stanza whose position is known, or one chunk of a text parsed in parallel
/// (see [`Parser::until`]).
pub fn parse_from(text: &str, offset: usize, line: usize) -> Parser<'_> {
    Parser {
        text,
        pos: offset.min(text.len()),
        end: text.len(),
        line,
        failed: false,
        check_duplicates: true,
    }
}

/// Splits `text` into up to `parts` byte ranges that each start at the start
/// of a stanza (just after a blank line), for parsing in parallel.
pub fn split_stanzas(text: &str, parts: usize) -> Vec<std::ops::Range<usize>> {
    let bytes = text.as_bytes();
    let mut cuts = vec![0];
    for k in 1..parts.max(1) {
        let from = (text.len() * k / parts).max(*cuts.last().expect("cuts starts with 0"));
        match memchr::memmem::find(&bytes[from..], b"\n\n") {
            Some(i) => cuts.push(from + i + 2),
            None => break,
        }
    }
    cuts.push(text.len());
    cuts.dedup();
    cuts.windows(2).map(|w| w[0]..w[1]).collect()
}

impl<'a> Parser<'a> {
    /// Stops at byte `end`, which must be the start of a line.
    #[must_use]
    pub fn until(mut self, end: usize) -> Self {
        self.end = end.min(self.text.len());
        self
    }

    /// Skips the check that field names are unique, for a caller that checks
    /// the fields it uses itself: the check is quadratic in the stanza size
    /// and dominates the parsing of a large index.
    #[must_use]
    pub fn allow_duplicates(mut self) -> Self {
        self.check_duplicates = false;
        self
    }

    /// The number of the next line to read (1 before the first).
    pub fn line(&self) -> usize {
        self.line
    }

    /// Takes the next line without its newline; `None` at the end.
    fn next_line(&mut self) -> Option<(usize, &'a str)> {
        if self.pos >= self.end {
            return None;
        }
        let rest = &self.text[self.pos..self.end];
        let len = memchr::memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len());
        let start = self.pos;
        self.pos += (len + 1).min(rest.len());
        self.line += 1;
        Some((start, &rest[..len]))
    }

    /// Reads the next stanza into `stanza`, reusing its allocation; false at
    /// the end of the text. After an error the parser stays at the end.
    pub fn read_into(&mut self, stanza: &mut Stanza<'a>) -> Result<bool, Deb822Error> {
        if self.failed {
            return Ok(false);
        }
        let result = self.read_stanza(stanza);
        self.failed = result.is_err();
        result
    }

    fn read_stanza(&mut self, stanza: &mut Stanza<'a>) -> Result<bool, Deb822Error> {
        stanza.fields.clear();
        // Byte range of the open field's value in `text`.
        let mut open: Option<(usize, usize)> = None;
        let mut seen = None;
        while let Some((start, line)) = self.next_line() {
            let number = self.line - 1;
            let first = line.as_bytes().first().copied();
            if first == Some(b'#') {
                continue;
            }
            if is_blank(line) {
                if stanza.fields.is_empty() {
                    continue;
                }
                break;
            }
            if first == Some(b' ') || first == Some(b'\t') {
                match &mut open {
                    Some((_, end)) => *end = start + line.len(),
                    None => return Err(Deb822Error { line: number, problem: "continuation line outside a field".into() }),
                }
                continue;
            }
            let Some(colon) = memchr::memchr(b':', line.as_bytes()) else {
                return Err(Deb822Error {
                    line: number,
                    problem: format!("expected `Field: value`, found {:?}", cut(line)),
                });
            };
            let name = &line[..colon];
            if name.is_empty() || name.bytes().any(|c| c <= b' ' || c == 0x7f) {
                return Err(Deb822Error { line: number, problem: format!("bad field name {:?}", cut(name)) });
            }
            if let Some((from, to)) = open.take() {
                close_field(self.text, stanza, from, to);
            } else {
                stanza.line = number;
                stanza.offset = start;
            }
            if self.check_duplicates && is_duplicate(&stanza.fields, name, &mut seen) {
                return Err(Deb822Error { line: number, problem: format!("field {} appears twice in one stanza", escaped(name)) });
            }
            stanza.fields.push(Field { name, value: "", line: number });
            open = Some((start + colon + 1, start + line.len()));
        }
        if let Some((from, to)) = open {
            close_field(self.text, stanza, from, to);
        }
        Ok(!stanza.fields.is_empty())
    }
}

fn is_blank(line: &str) -> bool {
    line.bytes().all(|c| c == b' ' || c == b'\t' || c == b'\r')
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Stanza<'a>, Deb822Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut stanza = Stanza { line: 0, offset: 0, fields: Vec::new() };
        match self.read_into(&mut stanza) {
            Ok(true) => Some(Ok(stanza)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

fn close_field<'a>(text: &'a str, stanza: &mut Stanza<'a>, from: usize, to: usize) {
    let field = stanza.fields.last_mut().expect("an open field was pushed");
    let blank = |c: char| c == ' ' || c == '\t' || c == '\r' || c == '\n';
    field.value = text[from..to].trim_matches(blank);
}

/// Whether `name` is among `fields` already, ignoring case. A scan for the
/// few fields a stanza has; past that, a set of the lower-cased names, so
/// that a stanza of a million fields is not quadratic (issue 8).
fn is_duplicate(fields: &[Field<'_>], name: &str, seen: &mut Option<std::collections::HashSet<String>>) -> bool {
    const SCAN: usize = 32;
    if fields.len() < SCAN {
        return fields.iter().any(|f| f.name.eq_ignore_ascii_case(name));
    }
    let seen = seen.get_or_insert_with(|| fields.iter().map(|f| f.name.to_ascii_lowercase()).collect());
    !seen.insert(name.to_ascii_lowercase())
}

/// A value from the input as messages show it without quotes (a package
/// name): [`cut`], with control characters escaped, so that input cannot
/// drive the terminal a message is printed on (issue 8).
pub fn escaped(s: &str) -> String {
    cut(s).escape_debug().to_string()
}

/// A value from the input as messages show it: its first 60 characters and
/// `…` when longer, so that a multi-megabyte field cannot flood a terminal or
/// a log (issue 8). Shown with `{:?}`, control characters stay escaped.
pub fn cut(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &s[..i]).into(),
        None => s.into(),
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
    fn split_chunks_parse_like_the_whole() {
        let text: String = (0..50).map(|i| format!("Package: p{i}\nDepends: x,\n y\n\n")).collect();
        let whole: Vec<_> = parse(&text).collect::<Result<_, _>>().unwrap();
        for parts in [1, 2, 3, 7, 100] {
            let mut got = Vec::new();
            let mut line = 1;
            for range in split_stanzas(&text, parts) {
                got.extend(parse_from(&text, range.start, line).until(range.end).map(Result::unwrap));
                line += text[range].matches('\n').count();
            }
            assert_eq!(got, whole, "{parts} parts");
        }
    }

    /// Issue 8: a stanza of many distinct fields is read in linear time, and
    /// a duplicate among them is still found, on its line, in any case.
    #[test]
    fn many_fields_are_not_quadratic() {
        let n = 200_000;
        let mut text: String = (0..n).map(|i| format!("X-F{i}: v\n")).collect();
        assert_eq!(parse(&text).count(), 1);
        text.push_str("x-f12345: again\n");
        let err = parse(&text).find_map(Result::err).expect("a duplicate");
        assert_eq!((err.line, err.problem.as_str()), (n + 1, "field x-f12345 appears twice in one stanza"));
        assert!(parse("A: 1\nB: 2\na: 3\n").next().unwrap().is_err());
    }

    /// Issue 8: a huge line is not copied into the message.
    #[test]
    fn messages_cut_long_values() {
        let line = "x".repeat(10_000_000);
        let err = parse(&format!("A: 1\n{line}\n")).find_map(Result::err).unwrap();
        assert_eq!(err.line, 2);
        assert!(err.problem.len() < 200, "{} bytes", err.problem.len());
        assert!(err.problem.ends_with("xxx…\""), "{}", err.problem);
        let err = parse(&format!("{line}: 1\n{line}: 2\n")).find_map(Result::err).unwrap();
        assert!(err.problem.len() < 200, "{} bytes", err.problem.len());
        assert_eq!(cut("é".repeat(61).as_str()), format!("{}…", "é".repeat(60)));
        assert_eq!(cut("short"), "short");
    }

    #[test]
    fn empty_values_and_no_trailing_newline() {
        let st: Vec<_> = parse("A:\nB:   v  ").collect::<Result<_, _>>().unwrap();
        assert_eq!(st[0].get("A"), Some(""));
        assert_eq!(st[0].get("B"), Some("v"));
    }
}
