//! IAM wildcard patterns (`*` any run of characters, `?` one character).
//!
//! Besides plain matching, the evaluator needs two questions about a *set* of strings — "all
//! object ARNs of this bucket", i.e. every string that starts with `arn:aws:s3:::bucket/`:
//! can the pattern match **some** of them (an Allow that reaches some objects grants access), and
//! does it match **all** of them (only a Deny that covers every object removes that access).
//! Both are answered by running the pattern as a small NFA over the prefix.

/// The set of pattern positions an NFA run can be in. Patterns in policies are short, so the
/// set fits a 128-bit word; longer patterns (rare) use a vector.
#[derive(Clone)]
enum States {
    Bits(u128),
    Wide(Vec<bool>),
}

impl States {
    fn new(len: usize) -> States {
        if len < 128 {
            States::Bits(0)
        } else {
            States::Wide(vec![false; len + 1])
        }
    }

    fn get(&self, i: usize) -> bool {
        match self {
            States::Bits(bits) => bits >> i & 1 == 1,
            States::Wide(v) => v[i],
        }
    }

    fn set(&mut self, i: usize) {
        match self {
            States::Bits(bits) => *bits |= 1 << i,
            States::Wide(v) => v[i] = true,
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            States::Bits(bits) => *bits == 0,
            States::Wide(v) => !v.iter().any(|&s| s),
        }
    }
}

/// Pattern positions reachable after reading `text` (an NFA run: `*` may stay or move on,
/// `?` and literals consume one byte).
fn reachable(pattern: &[u8], text: &[u8], fold_case: bool) -> States {
    let mut states = States::new(pattern.len());
    states.set(0);
    close(pattern, &mut states);
    for &c in text {
        let mut next = States::new(pattern.len());
        for (i, &p) in pattern.iter().enumerate() {
            if !states.get(i) {
                continue;
            }
            if p == b'*' {
                next.set(i);
            } else if p == b'?' || p == c || (fold_case && p.eq_ignore_ascii_case(&c)) {
                next.set(i + 1);
            }
        }
        if next.is_empty() {
            return next;
        }
        close(pattern, &mut next);
        states = next;
    }
    states
}

/// A `*` can match nothing, so being before it means being after it too.
fn close(pattern: &[u8], states: &mut States) {
    for (i, &p) in pattern.iter().enumerate() {
        if p == b'*' && states.get(i) {
            states.set(i + 1);
        }
    }
}

fn is_literal(pattern: &str) -> bool {
    !pattern.bytes().any(|b| b == b'*' || b == b'?')
}

/// `literal*`, the commonest wildcard in policies (`s3:Get*`, `arn:aws:s3:::b/*`, `*`): the
/// literal part, so callers can compare prefixes instead of running the NFA.
fn trailing_star(pattern: &str) -> Option<&str> {
    let head = pattern.strip_suffix('*')?;
    is_literal(head).then_some(head)
}

fn starts_with(text: &str, head: &str, fold_case: bool) -> bool {
    text.len() >= head.len()
        && if fold_case {
            text.as_bytes()[..head.len()].eq_ignore_ascii_case(head.as_bytes())
        } else {
            text.as_bytes()[..head.len()] == *head.as_bytes()
        }
}

/// Whole-string match. Actions compare case-insensitively, ARNs case-sensitively.
pub fn matches(pattern: &str, text: &str, fold_case: bool) -> bool {
    if is_literal(pattern) {
        // Most patterns in real policies are plain ARNs and action names.
        return if fold_case {
            pattern.eq_ignore_ascii_case(text)
        } else {
            pattern == text
        };
    }
    if let Some(head) = trailing_star(pattern) {
        return starts_with(text, head, fold_case);
    }
    reachable(pattern.as_bytes(), text.as_bytes(), fold_case).get(pattern.len())
}

/// True when the pattern matches at least one string that starts with `prefix`.
pub fn matches_some_with_prefix(pattern: &str, prefix: &str, fold_case: bool) -> bool {
    if is_literal(pattern) {
        return starts_with(pattern, prefix, fold_case);
    }
    if let Some(head) = trailing_star(pattern) {
        return starts_with(head, prefix, fold_case) || starts_with(prefix, head, fold_case);
    }
    !reachable(pattern.as_bytes(), prefix.as_bytes(), fold_case).is_empty()
}

/// True when the pattern matches every string that starts with `prefix`: after the prefix,
/// only `*`s remain (at least one).
pub fn matches_all_with_prefix(pattern: &str, prefix: &str, fold_case: bool) -> bool {
    if is_literal(pattern) {
        // One string, never all of the endless strings that start with `prefix` (the bucket
        // ARN of a statement that lists both the bucket and its objects).
        return false;
    }
    if let Some(head) = trailing_star(pattern) {
        return starts_with(prefix, head, fold_case);
    }
    let bytes = pattern.as_bytes();
    let states = reachable(bytes, prefix.as_bytes(), fold_case);
    (0..bytes.len()).any(|i| states.get(i) && bytes[i..].iter().all(|&b| b == b'*'))
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
        // The bucket ARN itself is not an object, nor is any one object all of them.
        assert!(!matches_some_with_prefix("arn:aws:s3:::b", objects, false));
        assert!(!matches_all_with_prefix("arn:aws:s3:::b", objects, false));
        assert!(!matches_all_with_prefix("arn:aws:s3:::b/", objects, false));
        assert!(!matches_all_with_prefix(
            "arn:aws:s3:::b/key",
            objects,
            false
        ));
        // `b*` reaches objects of `b` (and of every bucket starting with b).
        assert!(matches_all_with_prefix("arn:aws:s3:::b*", objects, false));
    }

    #[test]
    fn long_patterns_take_the_wide_path() {
        let long = format!("arn:aws:s3:::{}/*", "b".repeat(200));
        let objects = format!("arn:aws:s3:::{}/", "b".repeat(200));
        assert!(matches_all_with_prefix(&long, &objects, false));
        assert!(matches(&long, &format!("{objects}key"), false));
        assert!(!matches(&long, "arn:aws:s3:::b/key", false));
        let literal = "x".repeat(300);
        assert!(matches(&literal, &literal, false));
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
