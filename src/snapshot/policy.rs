//! The IAM policy document model: a bucket policy parsed from the JSON string AWS returns.
//!
//! IAM accepts several spellings for the same thing (a single string or a list, `"*"` or
//! `{"AWS": "*"}`, booleans as strings or JSON booleans); this module normalises them so the
//! evaluator sees one shape. A document IAM would reject is reported as an error with the
//! JSON pointer of the offending member.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Position in the document's Statement list, for reasons an auditor can find.
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: PrincipalSpec,
    pub actions: Matcher,
    pub resources: Matcher,
    pub conditions: Vec<Condition>,
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalSpec {
    Principal(Principals),
    NotPrincipal(Principals),
    /// Neither member: valid only in identity policies; in a bucket policy it matches nobody.
    Missing,
}

/// The principals of one statement, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principals {
    /// `"*"` or `{"AWS": "*"}` (or a list holding `"*"`): everyone, anonymous callers included.
    pub everyone: bool,
    pub aws: Vec<String>,
    pub service: Vec<String>,
    pub federated: Vec<String>,
    pub canonical_user: Vec<String>,
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: a list of wildcard patterns, positive or
/// negated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub negated: bool,
    pub patterns: Vec<String>,
}

/// One `"Operator": {"key": values}` entry of a Condition block. Entries are AND'ed; the
/// values of one entry are OR'ed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: String,
    pub key: String,
    /// Values as strings (JSON booleans and numbers are rendered as IAM compares them).
    pub values: Vec<String>,
}

impl Statement {
    /// `Sid "x"` or `statement 3`, to name a statement in a finding's reason.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) if !sid.is_empty() => format!("statement \"{sid}\""),
            _ => format!("statement {}", self.index + 1),
        }
    }
}

/// Why a policy document could not be read, with the JSON pointer of the offending member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub pointer: String,
    pub message: String,
}

impl PolicyDocument {
    /// Parses the document text AWS returns from GetBucketPolicy.
    pub fn parse(text: &str) -> Result<PolicyDocument, PolicyError> {
        let value: Value = serde_json::from_str(text).map_err(|err| PolicyError {
            pointer: String::new(),
            message: format!("the policy is not valid JSON: {err}"),
        })?;
        PolicyDocument::from_value(&value)
    }

    /// Parses a document already read as JSON (identity policies, which the snapshot records as
    /// JSON objects, as the AWS CLI prints them).
    pub fn from_value(value: &Value) -> Result<PolicyDocument, PolicyError> {
        let object = value.as_object().ok_or_else(|| PolicyError {
            pointer: String::new(),
            message: "the policy is not a JSON object".to_string(),
        })?;
        let statements = match object.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
            Some(item @ Value::Object(_)) => vec![item],
            Some(_) => {
                return Err(error(
                    "/Statement",
                    "must be an object or a list of objects",
                ))
            }
            None => return Err(error("/Statement", "is missing")),
        };
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(index, value)| parse_statement(index, value))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PolicyDocument { statements })
    }
}

fn error(pointer: impl Into<String>, message: impl Into<String>) -> PolicyError {
    PolicyError {
        pointer: pointer.into(),
        message: message.into(),
    }
}

fn parse_statement(index: usize, value: &Value) -> Result<Statement, PolicyError> {
    let at = |member: &str| format!("/Statement/{index}/{member}");
    let object = value
        .as_object()
        .ok_or_else(|| error(format!("/Statement/{index}"), "must be an object"))?;
    let sid = match object.get("Sid") {
        None => None,
        Some(Value::String(sid)) => Some(sid.clone()),
        Some(_) => return Err(error(at("Sid"), "must be a string")),
    };
    let effect = match object.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        Some(other) => {
            return Err(error(
                at("Effect"),
                format!("must be \"Allow\" or \"Deny\", not \"{other}\""),
            ))
        }
        None => return Err(error(at("Effect"), "is missing or not a string")),
    };
    let principal = match (object.get("Principal"), object.get("NotPrincipal")) {
        (Some(_), Some(_)) => {
            return Err(error(
                at("Principal"),
                "Principal and NotPrincipal cannot both be present",
            ))
        }
        (Some(p), None) => PrincipalSpec::Principal(parse_principals(p, &at("Principal"))?),
        (None, Some(p)) => PrincipalSpec::NotPrincipal(parse_principals(p, &at("NotPrincipal"))?),
        (None, None) => PrincipalSpec::Missing,
    };
    let actions = parse_matcher(object, "Action", "NotAction", &at)?;
    let resources = parse_matcher(object, "Resource", "NotResource", &at)?;
    let conditions = match object.get("Condition") {
        None => Vec::new(),
        Some(block) => parse_conditions(block, &at("Condition"))?,
    };
    Ok(Statement {
        index,
        sid,
        effect,
        principal,
        actions,
        resources,
        conditions,
    })
}

/// A string or a list of strings, as IAM allows almost everywhere.
fn strings(value: &Value, pointer: &str) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::String(text) => Ok(vec![text.clone()]),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| error(format!("{pointer}/{i}"), "must be a string"))
            })
            .collect(),
        _ => Err(error(pointer, "must be a string or a list of strings")),
    }
}

fn parse_principals(value: &Value, pointer: &str) -> Result<Principals, PolicyError> {
    let mut principals = Principals::default();
    match value {
        Value::String(text) if text == "*" => principals.everyone = true,
        Value::String(_) => return Err(error(pointer, "a string principal must be \"*\"")),
        Value::Object(kinds) => {
            for (kind, ids) in kinds {
                let ids = strings(ids, &format!("{pointer}/{kind}"))?;
                match kind.as_str() {
                    "AWS" => {
                        principals.everyone |= ids.iter().any(|id| id == "*");
                        principals
                            .aws
                            .extend(ids.into_iter().filter(|id| id != "*"));
                    }
                    "Service" => principals.service.extend(ids),
                    "Federated" => principals.federated.extend(ids),
                    "CanonicalUser" => {
                        principals.everyone |= ids.iter().any(|id| id == "*");
                        principals
                            .canonical_user
                            .extend(ids.into_iter().filter(|id| id != "*"));
                    }
                    other => {
                        return Err(error(
                            format!("{pointer}/{other}"),
                            "is not a principal type (AWS, Service, Federated, CanonicalUser)",
                        ))
                    }
                }
            }
        }
        _ => return Err(error(pointer, "must be \"*\" or an object")),
    }
    Ok(principals)
}

fn parse_matcher(
    object: &serde_json::Map<String, Value>,
    positive: &str,
    negative: &str,
    at: &dyn Fn(&str) -> String,
) -> Result<Matcher, PolicyError> {
    match (object.get(positive), object.get(negative)) {
        (Some(_), Some(_)) => Err(error(
            at(positive),
            format!("{positive} and {negative} cannot both be present"),
        )),
        (Some(value), None) => Ok(Matcher {
            negated: false,
            patterns: strings(value, &at(positive))?,
        }),
        (None, Some(value)) => Ok(Matcher {
            negated: true,
            patterns: strings(value, &at(negative))?,
        }),
        (None, None) => Err(error(
            at(positive),
            format!("either {positive} or {negative} is required"),
        )),
    }
}

fn parse_conditions(block: &Value, pointer: &str) -> Result<Vec<Condition>, PolicyError> {
    let operators = block
        .as_object()
        .ok_or_else(|| error(pointer, "must be an object"))?;
    let mut conditions = Vec::new();
    for (operator, keys) in operators {
        let keys = keys
            .as_object()
            .ok_or_else(|| error(format!("{pointer}/{operator}"), "must be an object"))?;
        for (key, values) in keys {
            let at = format!("{pointer}/{operator}/{key}");
            let values = match values {
                Value::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| scalar(v, &format!("{at}/{i}")))
                    .collect::<Result<Vec<_>, _>>()?,
                other => vec![scalar(other, &at)?],
            };
            conditions.push(Condition {
                operator: operator.clone(),
                key: key.clone(),
                values,
            });
        }
    }
    Ok(conditions)
}

fn scalar(value: &Value, pointer: &str) -> Result<String, PolicyError> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Bool(flag) => Ok(flag.to_string()),
        Value::Number(number) => Ok(number.to_string()),
        _ => Err(error(
            pointer,
            "a condition value must be a string, boolean or number",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_statement_object_and_string_forms_are_normalised() {
        let doc = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["*","arn:aws:iam::1:root"]},
               "Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*",
               "Condition":{"Bool":{"aws:SecureTransport":false},"IpAddress":{"aws:SourceIp":["10.0.0.0/8"]}}}}"#,
        )
        .unwrap();
        let statement = &doc.statements[0];
        let PrincipalSpec::Principal(p) = &statement.principal else {
            panic!("expected Principal")
        };
        assert!(p.everyone);
        assert_eq!(p.aws, vec!["arn:aws:iam::1:root"]);
        assert_eq!(statement.actions.patterns, vec!["s3:GetObject"]);
        assert_eq!(statement.conditions.len(), 2);
        assert!(statement
            .conditions
            .iter()
            .any(|c| c.key == "aws:SecureTransport" && c.values == vec!["false"]));
    }

    #[test]
    fn invalid_documents_name_the_member() {
        let err = PolicyDocument::parse(
            r#"{"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.pointer, "/Statement/0/Effect");
        let err = PolicyDocument::parse("{not json").unwrap_err();
        assert!(err.message.contains("not valid JSON"), "{}", err.message);
        let err = PolicyDocument::parse(r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#)
            .unwrap_err();
        assert_eq!(err.pointer, "/Statement/0/Action");
    }
}
