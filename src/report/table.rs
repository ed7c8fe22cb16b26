//! The terminal table of `evaluate --format table`: grouped by bucket, the worst buckets first,
//! failures first inside each bucket, wrapped to 100 columns. For an organisation each subject
//! is prefixed by its account, and each bucket carries its ePHI designation.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::findings::{FindingRef, FindingsReport, Severity, Status};

pub const WIDTH: usize = 100;

/// Sort key of a finding inside its group: failures by severity, then errors, then the rest.
fn finding_key(f: FindingRef<'_>) -> (Status, Severity, &str) {
    (f.status(), f.severity(), f.control().as_str())
}

pub fn render(report: &FindingsReport) -> String {
    let mut bytes = Vec::new();
    write_table(report, &mut bytes).expect("writing to memory");
    String::from_utf8(bytes).expect("the table is UTF-8")
}

/// Streams the table, bucket by bucket.
pub fn write_table(report: &FindingsReport, sink: &mut dyn std::io::Write) -> std::io::Result<()> {
    let organisation = report.snapshot.organization_id.as_deref();
    let mut groups: BTreeMap<(&str, &str), Vec<FindingRef<'_>>> = BTreeMap::new();
    for f in &report.findings {
        // Only an organisation's table names accounts; a single account's keys them all alike.
        let account = if organisation.is_some() {
            f.account().as_str()
        } else {
            ""
        };
        groups
            .entry((account, f.subject().as_str()))
            .or_default()
            .push(f);
    }
    let mut groups: Vec<((&str, &str), Vec<FindingRef<'_>>)> = groups.into_iter().collect();
    for (_, findings) in &mut groups {
        findings.sort_by(|a, b| finding_key(*a).cmp(&finding_key(*b)));
    }
    // The worst bucket first: its worst finding, then how many failures it has, then its name.
    groups.sort_by(|(a_name, a), (b_name, b)| {
        let worst = |fs: &Vec<FindingRef<'_>>| fs.first().map(|f| (f.status(), f.severity()));
        let fails =
            |fs: &Vec<FindingRef<'_>>| fs.iter().filter(|f| f.status() == Status::Fail).count();
        worst(a)
            .cmp(&worst(b))
            .then(fails(b).cmp(&fails(a)))
            .then(a_name.cmp(b_name))
    });

    let mut out = String::new();
    let s = &report.snapshot;
    match organisation {
        Some(id) => {
            let _ = writeln!(
                out,
                "phi-audit findings for organisation {id} (management account {})",
                s.account_id
            );
        }
        None => {
            let _ = writeln!(out, "phi-audit findings for account {}", s.account_id);
        }
    }
    let _ = writeln!(
        out,
        "collected {}, generated {}",
        s.collected_at, report.generated_at
    );
    let _ = writeln!(out, "snapshot digest {}", s.digest);
    for ((account, subject), findings) in &groups {
        let count = |st: Status| findings.iter().filter(|f| f.status() == st).count();
        let _ = writeln!(out);
        let account = if account.is_empty() {
            String::new()
        } else {
            format!("{account} ")
        };
        let counts = format!(
            "({} fail, {} error, {} excepted, {} pass)",
            count(Status::Fail),
            count(Status::Error),
            count(Status::Excepted),
            count(Status::Pass)
        );
        // A bucket is named with its ePHI designation (DESIGN §8).
        let counts = match findings.iter().find_map(|f| f.ephi()) {
            Some(true) => format!("ePHI: yes  {counts}"),
            Some(false) => format!("ePHI: no  {counts}"),
            None => counts,
        };
        let heading = format!("{account}{subject}  {counts}");
        // A long subject (a KMS key ARN) puts the counts on a line of their own.
        if heading.chars().count() <= 100 {
            let _ = writeln!(out, "{heading}");
        } else {
            let _ = writeln!(out, "{account}{subject}\n  {counts}");
        }
        let mut passed = Vec::new();
        for f in findings {
            match f.status() {
                Status::Pass | Status::NotApplicable if !f.is_latent() => {
                    passed.push(f.control().as_str())
                }
                _ => {
                    let label = if f.is_latent() {
                        "LATENT".to_string()
                    } else {
                        f.status().as_str().to_uppercase()
                    };
                    let _ = writeln!(
                        out,
                        "  {:<8} {:<8} {}",
                        label,
                        f.severity().as_str(),
                        f.control()
                    );
                    for line in wrap(f.reason(), WIDTH - 6) {
                        let _ = writeln!(out, "      {line}");
                    }
                }
            }
        }
        if !passed.is_empty() {
            let text = format!("pass: {}", passed.join(", "));
            for (i, line) in wrap(&text, WIDTH - 8).into_iter().enumerate() {
                let indent = if i == 0 { "  " } else { "        " };
                let _ = writeln!(out, "{indent}{line}");
            }
        }
        sink.write_all(out.as_bytes())?;
        out.clear();
    }
    let summary = &report.summary;
    let _ = writeln!(out);
    let statuses: Vec<String> = Status::ALL
        .iter()
        .map(|st| {
            format!(
                "{} {}",
                summary.by_status.get(st.as_str()).copied().unwrap_or(0),
                st
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "{} subjects, {} findings: {}",
        summary.subjects,
        summary.findings,
        statuses.join(", ")
    );
    let severities: Vec<String> = Severity::ALL
        .iter()
        .map(|sv| {
            format!(
                "{} {}",
                summary
                    .failures_by_severity
                    .get(sv.as_str())
                    .copied()
                    .unwrap_or(0),
                sv
            )
        })
        .collect();
    let _ = writeln!(out, "failures by severity: {}", severities.join(", "));
    sink.write_all(out.as_bytes())
}

/// Greedy word wrap; a word longer than the width (a long ARN) is broken where it must be.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_string();
        loop {
            let needed = if line.is_empty() {
                word.chars().count()
            } else {
                line.chars().count() + 1 + word.chars().count()
            };
            if needed <= width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            let split: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(split);
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_respects_width_and_breaks_long_words() {
        let lines = wrap("aaa bbb ccc", 7);
        assert_eq!(lines, vec!["aaa bbb", "ccc"]);
        let lines = wrap(&"x".repeat(25), 10);
        assert_eq!(lines, vec!["x".repeat(10), "x".repeat(10), "x".repeat(5)]);
        assert!(wrap("", 10).is_empty());
    }
}
