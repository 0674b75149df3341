//! URLs as debclosure shows them: without the user and password a mirror
//! URL may carry, in every message and log (as rattler redacts its HTTP
//! errors).

/// Removes the user and password from a URL, for messages and logs.
///
/// Works on the text, so it also redacts URLs that do not parse.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let authority_start = scheme_end + 3;
    let rest = &url[authority_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &url[..authority_start], &rest[at + 1..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_credentials_only() {
        let cases = [
            ("http://user:secret@127.0.0.1:8080/debian/dists", "http://127.0.0.1:8080/debian/dists"),
            ("https://token@127.0.0.1/a?b=c@d", "https://127.0.0.1/a?b=c@d"),
            ("http://a:b@c@127.0.0.1#x", "http://127.0.0.1#x"),
            ("http://127.0.0.1/pool/a@b.deb", "http://127.0.0.1/pool/a@b.deb"),
            ("http://127.0.0.1", "http://127.0.0.1"),
            ("not a url @ all", "not a url @ all"),
        ];
        for (url, want) in cases {
            assert_eq!(redact_url(url), want, "{url}");
        }
    }
}
