//! IAM wildcard patterns (`*` any run of characters, `?` one character).
//!
//! Besides plain matching, the evaluator needs two questions about a *set* of strings — "all
//! object ARNs of this bucket", i.e. every string that starts with `arn:aws:s3:::bucket/`:
//! can the pattern match **some** of them (an Allow that reaches some objects grants access), and
//! does it match **all** of them (only a Deny that covers every object removes that access).
//! Both are answered by running the pattern as a small NFA over the prefix.

/// Pattern positions reachable after reading `text`, or empty when none are.
fn reachable(pattern: &[u8], text: &[u8], fold_case: bool) -> Vec<bool> {
    let mut states = vec![false; pattern.len() + 1];
    states[0] = true;
    close(pattern, &mut states);
    for &c in text {
        let mut next = vec![false; pattern.len() + 1];
        let mut any = false;
        for i in 0..pattern.len() {
            if !states[i] {
                continue;
            }
            let p = pattern[i];
            if p == b'*' {
                next[i] = true;
                any = true;
            } else if p == b'?' || p == c || (fold_case && p.eq_ignore_ascii_case(&c)) {
                next[i + 1] = true;
                any = true;
            }
        }
        if !any {
            return next;
        }
        close(pattern, &mut next);
        states = next;
    }
    states
}

/// A `*` can match nothing, so being before it means being after it too.
fn close(pattern: &[u8], states: &mut [bool]) {
    for i in 0..pattern.len() {
        if states[i] && pattern[i] == b'*' {
            states[i + 1] = true;
        }
    }
}

/// Whole-string match. Actions compare case-insensitively, ARNs case-sensitively.
pub fn matches(pattern: &str, text: &str, fold_case: bool) -> bool {
    reachable(pattern.as_bytes(), text.as_bytes(), fold_case)[pattern.len()]
}

/// True when the pattern matches at least one string that starts with `prefix`.
pub fn matches_some_with_prefix(pattern: &str, prefix: &str, fold_case: bool) -> bool {
    reachable(pattern.as_bytes(), prefix.as_bytes(), fold_case)
        .iter()
        .any(|&s| s)
}

/// True when the pattern matches every string that starts with `prefix`: after the prefix,
/// only `*`s remain (at least one).
pub fn matches_all_with_prefix(pattern: &str, prefix: &str, fold_case: bool) -> bool {
    let bytes = pattern.as_bytes();
    reachable(bytes, prefix.as_bytes(), fold_case)
        .iter()
        .enumerate()
        .any(|(i, &s)| s && i < bytes.len() && bytes[i..].iter().all(|&b| b == b'*'))
}

/// Policy variables (`${aws:username}`) resolve per request: for an Allow they may match
/// anything, so they are widened to `*`; for a Deny they are kept literal, so a Deny that relies
/// on one is never taken to cover a resource it might not.
pub fn widen_variables(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                out.push('*');
                rest = &rest[start + end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_matching() {
        assert!(matches("s3:Get*", "s3:GetObject", true));
        assert!(matches("S3:GETOBJECT", "s3:GetObject", true));
        assert!(!matches("S3:GETOBJECT", "s3:GetObject", false));
        assert!(matches("s3:*Object", "s3:PutObject", true));
        assert!(!matches("s3:*Object", "s3:PutObjectAcl", true));
        assert!(matches("s3:?etObject", "s3:GetObject", true));
        assert!(matches("*", "", false));
        assert!(!matches("arn:aws:s3:::b", "arn:aws:s3:::bb", false));
    }

    #[test]
    fn some_and_all_with_prefix() {
        let objects = "arn:aws:s3:::b/";
        assert!(matches_all_with_prefix("arn:aws:s3:::b/*", objects, false));
        assert!(matches_all_with_prefix("*", objects, false));
        assert!(matches_all_with_prefix("arn:aws:s3:::*", objects, false));
        assert!(!matches_all_with_prefix(
            "arn:aws:s3:::b/public/*",
            objects,
            false
        ));
        assert!(matches_some_with_prefix(
            "arn:aws:s3:::b/public/*",
            objects,
            false
        ));
        assert!(matches_some_with_prefix(
            "arn:aws:s3:::b/key.txt",
            objects,
            false
        ));
        assert!(!matches_some_with_prefix(
            "arn:aws:s3:::other/*",
            objects,
            false
        ));
        // The bucket ARN itself is not an object.
        assert!(!matches_some_with_prefix("arn:aws:s3:::b", objects, false));
        // `b*` reaches objects of `b` (and of every bucket starting with b).
        assert!(matches_all_with_prefix("arn:aws:s3:::b*", objects, false));
    }

    #[test]
    fn variables_widen_only_when_asked() {
        assert_eq!(
            widen_variables("arn:aws:s3:::b/${aws:username}/*"),
            "arn:aws:s3:::b/*/*"
        );
        assert_eq!(widen_variables("no-vars"), "no-vars");
        assert_eq!(widen_variables("a${broken"), "a${broken");
    }
}
