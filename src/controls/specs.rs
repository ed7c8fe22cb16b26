//! The standards and implementation specifications of 45 CFR 164.312 (technical safeguards):
//! the ONE list of their ids, titles and Required/Addressable markings, and, for what cannot be
//! judged from AWS configuration, the evidence an auditor should request instead. The catalog
//! validates `safeguards:` against it; the report's coverage table lists every entry.

/// A standard, or an implementation specification of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Standard,
    Implementation,
}

/// How 45 CFR 164.312 marks it. Standards carry no marking of their own in the rule's text;
/// meeting every standard is required (164.306(a)), so they are `Required` here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marking {
    Required,
    Addressable,
}

impl Marking {
    pub fn name(self) -> &'static str {
        match self {
            Marking::Required => "Required",
            Marking::Addressable => "Addressable",
        }
    }
}

/// How far this tool can judge a specification from the AWS configuration it collects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The mapped controls judge it.
    Assessed,
    /// The mapped controls judge part of it; the text says what else to request.
    Partly(&'static str),
    /// Nothing in the AWS configuration shows it; the text says what to request instead.
    NotAssessed(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Specification {
    /// `164.312(a)(2)(i)`.
    pub id: &'static str,
    /// The rule's own heading, e.g. `Unique user identification`.
    pub title: &'static str,
    pub kind: Kind,
    pub marking: Marking,
    pub reach: Reach,
}

impl Specification {
    /// What an auditor should request beyond this tool's evidence, if anything.
    pub fn request(&self) -> Option<&'static str> {
        match self.reach {
            Reach::Assessed => None,
            Reach::Partly(text) | Reach::NotAssessed(text) => Some(text),
        }
    }

    /// `Required`, `Addressable` or `Required (standard)`.
    pub fn marking_label(&self) -> String {
        match self.kind {
            Kind::Standard => format!("{} (standard)", self.marking.name()),
            Kind::Implementation => self.marking.name().to_string(),
        }
    }
}

const fn spec(
    id: &'static str,
    title: &'static str,
    kind: Kind,
    marking: Marking,
    reach: Reach,
) -> Specification {
    Specification {
        id,
        title,
        kind,
        marking,
        reach,
    }
}

/// Every standard and implementation specification of 45 CFR 164.312, in the rule's order.
pub const SPECIFICATIONS: [Specification; 12] = [
    spec("164.312(a)(1)", "Access control", Kind::Standard, Marking::Required, Reach::Assessed),
    spec(
        "164.312(a)(2)(i)",
        "Unique user identification",
        Kind::Implementation,
        Marking::Required,
        Reach::Partly(
            "The user list of every identity provider federated into AWS (IAM Identity Center, SAML or OIDC) and of the applications that read ePHI from S3, showing one named account per person and no shared logins; this tool sees only IAM users and roles.",
        ),
    ),
    spec(
        "164.312(a)(2)(ii)",
        "Emergency access procedure",
        Kind::Implementation,
        Marking::Required,
        Reach::NotAssessed(
            "The written emergency (break-glass) access procedure for ePHI in S3: who may invoke it, the break-glass identity it uses and how its credentials are held, and the record of its last test or use.",
        ),
    ),
    spec(
        "164.312(a)(2)(iii)",
        "Automatic logoff",
        Kind::Implementation,
        Marking::Addressable,
        Reach::NotAssessed(
            "The session time-out settings that end idle sessions: the identity provider's or IAM Identity Center's session duration, the maximum session duration of roles that reach ePHI, and the screen-lock and application time-out policy of the workstations and applications that display it (or the documented reason the specification is not reasonable and appropriate, with the alternative measure).",
        ),
    ),
    spec(
        "164.312(a)(2)(iv)",
        "Encryption and decryption",
        Kind::Implementation,
        Marking::Addressable,
        Reach::Assessed,
    ),
    spec("164.312(b)", "Audit controls", Kind::Standard, Marking::Required, Reach::Partly(
        "Records that someone examines the logs: the log review procedure and the reports or tickets of the reviews held in the period; this tool shows only that activity is recorded.",
    )),
    spec("164.312(c)(1)", "Integrity", Kind::Standard, Marking::Required, Reach::Assessed),
    spec(
        "164.312(c)(2)",
        "Mechanism to authenticate electronic protected health information",
        Kind::Implementation,
        Marking::Addressable,
        Reach::Partly(
            "How stored ePHI itself is corroborated as unaltered (checksums such as S3's SHA-256 additional checksums recorded at upload and verified on read, or application signatures) and the results of the last verification; this tool judges only that the CloudTrail records are signed.",
        ),
    ),
    spec(
        "164.312(d)",
        "Person or entity authentication",
        Kind::Standard,
        Marking::Required,
        Reach::Partly(
            "The MFA and sign-in policy of every identity provider federated into AWS and of the applications that read ePHI; this tool judges only the root user and IAM users.",
        ),
    ),
    spec("164.312(e)(1)", "Transmission security", Kind::Standard, Marking::Required, Reach::Assessed),
    spec(
        "164.312(e)(2)(i)",
        "Integrity controls",
        Kind::Implementation,
        Marking::Addressable,
        Reach::Assessed,
    ),
    spec(
        "164.312(e)(2)(ii)",
        "Encryption",
        Kind::Implementation,
        Marking::Addressable,
        Reach::Assessed,
    ),
];

/// The specification with this id.
pub fn specification(id: &str) -> Option<&'static Specification> {
    SPECIFICATIONS.iter().find(|s| s.id == id)
}

/// `(id, title)` of every specification: a view of [`SPECIFICATIONS`], not a second list.
pub const SAFEGUARDS: [(&str, &str); 12] = {
    let mut out = [("", ""); 12];
    let mut i = 0;
    while i < SPECIFICATIONS.len() {
        out[i] = (SPECIFICATIONS[i].id, SPECIFICATIONS[i].title);
        i += 1;
    }
    out
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_the_rules_twelve_in_order_with_their_markings() {
        let ids: Vec<&str> = SPECIFICATIONS.iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            [
                "164.312(a)(1)",
                "164.312(a)(2)(i)",
                "164.312(a)(2)(ii)",
                "164.312(a)(2)(iii)",
                "164.312(a)(2)(iv)",
                "164.312(b)",
                "164.312(c)(1)",
                "164.312(c)(2)",
                "164.312(d)",
                "164.312(e)(1)",
                "164.312(e)(2)(i)",
                "164.312(e)(2)(ii)",
            ]
        );
        let addressable: Vec<&str> = SPECIFICATIONS
            .iter()
            .filter(|s| s.marking == Marking::Addressable)
            .map(|s| s.id)
            .collect();
        assert_eq!(
            addressable,
            [
                "164.312(a)(2)(iii)",
                "164.312(a)(2)(iv)",
                "164.312(c)(2)",
                "164.312(e)(2)(i)",
                "164.312(e)(2)(ii)",
            ]
        );
        assert_eq!(
            SAFEGUARDS[2],
            ("164.312(a)(2)(ii)", "Emergency access procedure")
        );
        for s in &SPECIFICATIONS {
            assert_eq!(s.kind == Kind::Standard, !s.id.contains("(2)"), "{}", s.id);
        }
    }
}
