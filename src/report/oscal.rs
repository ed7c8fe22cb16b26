//! `oscal/assessment-results.json`: the findings as a NIST OSCAL 1.1.2 assessment-results
//! document, for GRC tools that import OSCAL rather than phi-audit's own `findings.json`.
//!
//! This module owns the mapping from phi-audit's findings contract to OSCAL:
//!
//! - one `results` entry for the run: start = review period start (or the collection time),
//!   end = the collection time, with the snapshot digest, account and review period as props;
//! - `local-definitions/objectives-and-methods`: one objective per catalog control, carrying
//!   the catalog's title, description, remediation and 45 CFR 164.312 mapping once, so that
//!   the findings only point at it (`target` type `objective-id`);
//! - `local-definitions/inventory-items` of the result: one inventory item per subject (bucket,
//!   trail, KMS key, Dash policy, account), with its account and, for a bucket, its region and
//!   ePHI designation as props;
//! - one `observation` per subject and evidence file (a bucket's file, a trail's region file,
//!   an attestation or exception file), naming the subject's inventory item in `subjects` and
//!   linking the file in `relevant-evidence`: `../evidence/<file>` or `../attestations/<file>`
//!   (findings.json names the JSON pointers within it). Findings on one bucket rest on one or
//!   two files, so this keeps the document proportional to the subjects, not to the findings;
//!   then one observation per ePHI bucket of the access review (who can read, write, manage)
//!   and per account whose review was not assessed;
//! - one `risk` per control that failed somewhere (status `open`, or `deviation-approved` when
//!   every failure is excepted), carrying the catalog's title and description;
//! - one `finding` per control, status and reason, holding for every subject that got that
//!   verdict: state `satisfied` (pass, not applicable) or `not-satisfied` (fail; `error` with
//!   reason `not-assessed`, never satisfied; `excepted` with reason `risk-accepted`), the
//!   phi-audit status and subject count as props (severity is the objective's), the observations of every subject
//!   it holds for (so each finding still leads to its evidence), the control's risk for
//!   failures, and — for fail, error and excepted — one `finding-id` prop per finding (its
//!   subject in the prop's remarks). Passes are summarised: a pass's id derives from account,
//!   subject and control (docs/findings-format.md). At 10,000 buckets the ~240,000 findings
//!   are a few hundred OSCAL findings.
//!
//! The document is streamed (observations, risks and findings one per line), like
//! `findings.json`. Every UUID is name-based (RFC 4122
//! version 5, from the snapshot digest and what it names), never random, so the same inputs
//! and `--generated-at` give the same bytes. Structs, not `serde_json::Value`, fix the key
//! order whatever serde_json features other crates switch on.

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use serde::Serialize;
use sha1::{Digest, Sha1};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use super::refs::BundleRefs;
use crate::audit::{Audit, Scope};
use crate::bundle::format::{CATALOG_DIR, EVIDENCE_DIR};
use crate::controls::{Catalog, Control, SAFEGUARDS};
use crate::findings::{FastSet, FindingRef, FindingsReport, Status, Text};

/// The OSCAL release whose schema the document conforms to (tests/data/oscal/).
pub const OSCAL_VERSION: &str = "1.1.2";
/// Namespace of phi-audit's own props (OSCAL requires a URI for names it does not define).
pub const NS: &str = "urn:phi-audit:oscal";
/// The regulation text the safeguard props refer to.
const CFR_164_312: &str =
    "https://www.ecfr.gov/current/title-45/subtitle-A/subchapter-C/part-164/subpart-C/section-164.312";
/// RFC 4122 name space for URLs; our names are `urn:phi-audit:...` URNs.
const NAMESPACE_URL: [u8; 16] = [
    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
];

/// A timestamp the OSCAL schema would refuse (it accepts years 1900–2999 only).
#[derive(Debug, thiserror::Error)]
#[error("{field} {value:?}: OSCAL needs an RFC 3339 time with a time zone in the years 1900-2999")]
pub struct OscalTimeError {
    pub field: &'static str,
    pub value: String,
}

/// Everything the document is made of, checked up front so that streaming cannot fail on
/// bad input halfway through a bundle.
pub struct AssessmentResults<'a> {
    scope: &'a Scope,
    catalog: &'a Catalog,
    findings: &'a FindingsReport,
    /// Where each reference sits in the bundle.
    refs: BundleRefs,
    /// SHA-1 over the UUID name space and `urn:phi-audit:<snapshot digest>:`, cloned for
    /// each UUID (hundreds of thousands of them for a large account).
    name_prefix: Sha1,
    generated_at: String,
    collected_at: String,
    period_start: Option<String>,
    period_end: Option<String>,
}

impl<'a> AssessmentResults<'a> {
    pub fn new(audit: &'a Audit) -> Result<Self, OscalTimeError> {
        let scope = &audit.scope;
        let findings = &audit.findings;
        let period = scope.review_period.as_ref();
        let collected_at = oscal_time("snapshot.json collected_at", scope.collected_at.as_str())?;
        Ok(AssessmentResults {
            catalog: &audit.catalog,
            findings,
            refs: BundleRefs::new(audit),
            name_prefix: {
                let mut hasher = Sha1::new();
                hasher.update(NAMESPACE_URL);
                hasher.update(format!("urn:phi-audit:{}:", findings.snapshot.digest));
                hasher
            },
            generated_at: oscal_time("--generated-at", &findings.generated_at)?,
            collected_at,
            period_start: period
                .map(|p| oscal_time("snapshot.json review_period.since", p.since.as_str()))
                .transpose()?,
            period_end: period
                .map(|p| oscal_time("snapshot.json review_period.until", p.until.as_str()))
                .transpose()?,
            scope,
        })
    }

    /// The version 5 UUID of `urn:phi-audit:<snapshot digest>:<kind>:<key>`.
    fn uuid(&self, kind: &str, key: &str) -> String {
        self.uuid_of(kind, key).to_string()
    }

    /// [`AssessmentResults::uuid`] as its bytes.
    fn uuid_of(&self, kind: &str, key: &str) -> Uuid {
        let mut hasher = self.name_prefix.clone();
        hasher.update(kind.as_bytes());
        hasher.update(b":");
        hasher.update(key.as_bytes());
        Uuid::v5(&hasher.finalize())
    }

    /// Streams the document: a header line, one line per observation, risk and finding, a
    /// footer.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let plan = Plan::of(self);
        let header = self.header(&plan);
        // Written piecewise so that the big arrays are streamed into the one result.
        out.write_all(b"{\"assessment-results\":{\"uuid\":")?;
        serde_json::to_writer(&mut *out, &header.uuid)?;
        out.write_all(b",\n\"metadata\":")?;
        serde_json::to_writer(&mut *out, &header.metadata)?;
        out.write_all(b",\n\"import-ap\":")?;
        serde_json::to_writer(&mut *out, &header.import_ap)?;
        out.write_all(b",\n\"local-definitions\":")?;
        serde_json::to_writer(&mut *out, &header.local_definitions)?;
        out.write_all(b",\n\"results\":[")?;
        // The result's fixed fields (with its inventory, an item per bucket), without the
        // closing brace, then the streamed arrays.
        let mut open = AllButLast {
            out: &mut *out,
            held: None,
        };
        serde_json::to_writer(&mut open, &header.result)?;
        debug_assert_eq!(open.held, Some(b'}'));
        self.write_observations(out, &plan)?;
        self.write_risks(out, &plan)?;
        self.write_findings(out, &plan)?;
        out.write_all(b"}],\n\"back-matter\":")?;
        serde_json::to_writer(&mut *out, &header.back_matter)?;
        out.write_all(b"}}\n")
    }

    /// One observation per subject and evidence file, then the access review's.
    fn write_observations(&self, out: &mut dyn Write, plan: &Plan<'_>) -> io::Result<()> {
        let access = self.access_observations(plan);
        if plan.observations.is_empty() && access.is_empty() {
            return Ok(()); // OSCAL arrays may not be empty: leave the key out.
        }
        out.write_all(b",\n\"observations\":[")?;
        let mut first = true;
        let mut separator = |out: &mut dyn Write| {
            let bytes: &[u8] = if first { b"\n" } else { b",\n" };
            first = false;
            out.write_all(bytes)
        };
        for o in &plan.observations {
            separator(out)?;
            let s = &plan.subjects[o.subject as usize];
            let observation =
                self.observation(s.subject, o.file, o.uuid.to_string(), s.uuid.to_string());
            serde_json::to_writer(&mut *out, &observation)?;
        }
        for observation in &access {
            separator(out)?;
            serde_json::to_writer(&mut *out, observation)?;
        }
        out.write_all(b"]")
    }

    /// One risk per control that failed somewhere (excepted failures included).
    fn write_risks(&self, out: &mut dyn Write, plan: &Plan<'_>) -> io::Result<()> {
        if plan.risks.is_empty() {
            return Ok(());
        }
        out.write_all(b",\n\"risks\":[")?;
        for (i, (control, risk)) in plan.risks.iter().enumerate() {
            out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut *out, &self.risk(control, risk))?;
        }
        out.write_all(b"]")
    }

    /// One finding per control, status and reason, naming every subject it holds for.
    fn write_findings(&self, out: &mut dyn Write, plan: &Plan<'_>) -> io::Result<()> {
        if plan.groups.is_empty() {
            return Ok(());
        }
        out.write_all(b",\n\"findings\":[")?;
        for (i, (key, members)) in plan.groups.iter().enumerate() {
            out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut *out, &self.finding(plan, *key, members))?;
        }
        out.write_all(b"]")
    }

    fn observation(
        &self,
        subject: &str,
        file: &str,
        uuid: String,
        subject_uuid: String,
    ) -> Observation {
        // Every reference is followable: `../` and its bundle path (`report::refs`).
        let path = self.refs.bundle_file(file);
        let href = Some(format!("../{}", self.refs.link(file).href));
        // Short and fixed texts: there are tens of thousands of these at 10,000 buckets.
        let (collected, evidence_description) = if path.starts_with(EVIDENCE_DIR) {
            (
                &self.collected_at,
                "The API answers as collected, byte for byte.",
            )
        } else if path.starts_with(CATALOG_DIR) {
            (
                &self.generated_at,
                "The catalog's policy definitions as used.",
            )
        } else {
            (
                &self.generated_at,
                "The attestation, exception or policy file as given.",
            )
        };
        let description = format!("Evidence {path} for {subject}.");
        Observation {
            uuid,
            description,
            methods: ["EXAMINE"],
            subjects: Some(vec![SubjectRef {
                subject_uuid,
                kind: "inventory-item",
            }]),
            relevant_evidence: vec![RelevantEvidence {
                href,
                description: evidence_description.to_string(),
            }],
            collected: collected.clone(),
            remarks: None,
        }
    }

    fn finding(&self, plan: &Plan<'_>, key: GroupKey<'_>, members: &[u32]) -> OscalFinding {
        let (control, status, reason) = key;
        let (state, status_reason) = match status {
            Status::Pass => ("satisfied", "pass"),
            Status::NotApplicable => ("satisfied", "not-applicable"),
            Status::Fail => ("not-satisfied", "fail"),
            // Unknown is never satisfied.
            Status::Error => ("not-satisfied", "not-assessed"),
            // The control is still not met; a documented exception accepted the risk.
            Status::Excepted => ("not-satisfied", "risk-accepted"),
        };
        let findings = &self.findings.findings;
        let organisation = self.findings.snapshot.organization_id.is_some();
        let named = |f: FindingRef<'_>| {
            if organisation {
                format!("{} {}", f.account(), f.subject())
            } else {
                f.subject().to_string()
            }
        };
        let mut props = Vec::with_capacity(2 + members.len());
        props.extend(prop("status", status.as_str()));
        props.extend(prop("subjects", &members.len().to_string()));
        // The findings an auditor acts on keep their ids, each beside its subject; passes are
        // summarised (their ids derive from account, subject and control).
        if !matches!(status, Status::Pass | Status::NotApplicable) {
            for &i in members {
                let f = findings.get(i as usize);
                props.extend(prop("finding-id", &f.id()).map(|mut p| {
                    p.remarks = Some(named(f));
                    p
                }));
            }
        }
        let mut seen = FastSet::default();
        let mut related = Vec::new();
        for &i in members {
            let f = findings.get(i as usize);
            for reference in f.evidence() {
                let uuid = plan.observation_uuid(f, reference.file);
                if seen.insert(uuid) {
                    related.push(RelatedObservation {
                        observation_uuid: uuid.to_string(),
                    });
                }
            }
        }
        let title = match members {
            [only] => format!("{control} on {}", named(findings.get(*only as usize))),
            _ => format!(
                "{control}: {} on {} subjects",
                status.as_str(),
                members.len()
            ),
        };
        OscalFinding {
            uuid: self.uuid("finding", &format!("{control}\u{0}{status}\u{0}{reason}")),
            title,
            description: reason.to_string(),
            props,
            target: Target {
                kind: "objective-id",
                target_id: control.to_string(),
                status: TargetStatus {
                    state,
                    reason: status_reason,
                },
                implementation_status: (status == Status::NotApplicable).then_some(
                    ImplementationStatus {
                        state: "not-applicable",
                    },
                ),
            },
            related_observations: (!related.is_empty()).then_some(related),
            related_risks: plan.risks.get(control).and_then(|risk| {
                matches!(status, Status::Fail | Status::Excepted).then(|| {
                    vec![RelatedRisk {
                        risk_uuid: risk.uuid.to_string(),
                    }]
                })
            }),
        }
    }

    fn header<'p>(&'p self, plan: &'p Plan<'a>) -> Header<'p, 'a> {
        let f = self.findings;
        let organisation = self.scope.recorded_name().and_then(string_value);
        let who = match (&organisation, &f.snapshot.organization_id) {
            (Some(name), Some(id)) => format!(
                "{name} (AWS organisation {id}, management account {})",
                f.snapshot.account_id
            ),
            (None, Some(id)) => format!(
                "AWS organisation {id} (management account {})",
                f.snapshot.account_id
            ),
            (Some(name), None) => format!("{name} (AWS account {})", f.snapshot.account_id),
            (None, None) => format!("AWS account {}", f.snapshot.account_id),
        };
        let metadata = self.metadata(organisation, &who);
        let plan_uuid = self.uuid("assessment-plan", "method");
        let controls: Vec<&Control> = self.catalog.controls.iter().collect();
        let result = self.result_head(&who, &controls, plan);
        Header {
            uuid: self.uuid("assessment-results", &self.generated_at),
            metadata,
            import_ap: ImportAp {
                href: format!("#{plan_uuid}"),
                remarks:
                    "phi-audit has no separate OSCAL assessment plan: the plan is its control \
                          catalog (local-definitions of this document) and the method appendix of \
                          the report, described by the back-matter resource this href names.",
            },
            local_definitions: LocalDefinitions {
                objectives_and_methods: controls.iter().map(|c| objective(c)).collect(),
            },
            result,
            back_matter: BackMatter {
                resources: [Resource {
                    uuid: plan_uuid,
                    title: "Assessment method",
                    description: "How phi-audit collects evidence and decides each control: the \
                                  Method appendix of the report in this bundle.",
                    rlinks: [
                        Rlink {
                            href: "../report.pdf",
                            media_type: "application/pdf",
                        },
                        Rlink {
                            href: "../report.html",
                            media_type: "text/html",
                        },
                    ],
                }],
            },
        }
    }

    fn metadata(&self, organisation: Option<String>, who: &str) -> Metadata {
        let party = organisation.as_ref().map(|org| Party {
            uuid: self.uuid("party", org),
            kind: "organization",
            name: org.clone(),
        });
        Metadata {
            title: format!(
                "HIPAA Security Rule (45 CFR 164.312) assessment of the Amazon S3 configuration of {who}"
            ),
            last_modified: self.generated_at.clone(),
            version: env!("CARGO_PKG_VERSION"),
            oscal_version: OSCAL_VERSION,
            roles: party.as_ref().map(|_| {
                vec![Role {
                    id: "prepared-for",
                    title: "Prepared For",
                }]
            }),
            responsible_parties: party.as_ref().map(|p| {
                vec![ResponsibleParty {
                    role_id: "prepared-for",
                    party_uuids: vec![p.uuid.clone()],
                }]
            }),
            parties: party.map(|p| vec![p]),
        }
    }

    fn result_head<'p>(
        &'p self,
        who: &str,
        controls: &[&Control],
        plan: &'p Plan<'a>,
    ) -> ResultHead<'p, 'a> {
        let f = self.findings;
        let tool_uuid = self.uuid("component", "phi-audit");
        let mut result_props = Vec::new();
        result_props.extend(prop("snapshot-digest", &f.snapshot.digest));
        result_props.extend(prop("account-id", &f.snapshot.account_id));
        if let Some(id) = &f.snapshot.organization_id {
            result_props.extend(prop("organization-id", id));
        }
        result_props.extend(prop("partition", &self.scope.partition));
        if let (Some(since), Some(until)) = (&self.period_start, &self.period_end) {
            result_props.extend(prop("review-period-start", since));
            result_props.extend(prop("review-period-end", until));
        }
        result_props.extend(prop("findings-format", &f.format));
        ResultHead {
            uuid: self.uuid("result", &self.generated_at),
            title: format!("phi-audit assessment of {who}"),
            description: format!(
                "Every in-scope S3 bucket, CloudTrail trail and Dash administrative policy of {who}, \
                 judged by phi-audit {} against its HIPAA control catalog on the evidence collected at {} \
                 (snapshot digest {}). The same findings are in ../findings.json; the raw evidence is \
                 under ../evidence/.",
                env!("CARGO_PKG_VERSION"),
                self.collected_at,
                f.snapshot.digest
            ),
            start: self
                .period_start
                .clone()
                .unwrap_or_else(|| self.collected_at.clone()),
            end: self.collected_at.clone(),
            props: result_props,
            links: vec![
                Link {
                    href: "../findings.json",
                    rel: "related",
                    media_type: "application/json",
                    text: "The same findings in phi-audit's own format (phi-audit-findings/1)",
                },
                Link {
                    href: "../report.pdf",
                    rel: "related",
                    media_type: "application/pdf",
                    text: "The audit report",
                },
            ],
            local_definitions: ResultLocalDefinitions {
                inventory_items: (!plan.subjects.is_empty()).then_some(Inventory { doc: self, plan }),
                assessment_assets: AssessmentAssets {
                    components: [Component {
                        uuid: tool_uuid.clone(),
                        kind: "software",
                        title: "phi-audit",
                        description: "Reads an AWS account's S3, CloudTrail and account-level \
                                      configuration through the AWS APIs and judges it against \
                                      HIPAA Security Rule controls.",
                        props: [Prop {
                            name: "version",
                            ns: NS,
                            value: env!("CARGO_PKG_VERSION").to_string(),
                            remarks: None,
                        }],
                        status: ComponentStatus {
                            state: "operational",
                        },
                    }],
                    assessment_platforms: [Platform {
                        uuid: self.uuid("assessment-platform", "phi-audit"),
                        title: format!("phi-audit {}", env!("CARGO_PKG_VERSION")),
                        uses_components: [UsesComponent {
                            component_uuid: tool_uuid,
                        }],
                    }],
                },
            },
            reviewed_controls: ReviewedControls {
                description: "Every control of the phi-audit catalog, each defined once under \
                              local-definitions/objectives-and-methods.",
                control_selections: [ControlSelection {
                    include_controls: controls
                        .iter()
                        .map(|c| SelectControl {
                            control_id: c.id.clone(),
                        })
                        .collect(),
                }],
            },
        }
    }
}

/// A group of findings written as one OSCAL finding: control, status and reason.
type GroupKey<'f> = (&'f str, Status, &'f str);

/// A risk: one per control that failed (or whose failure is excepted) somewhere.
struct PlannedRisk {
    uuid: Uuid,
    failed: usize,
    excepted: usize,
}

/// What the document lists, worked out from the findings before anything is written: the
/// subjects (inventory items), one observation per subject and evidence file, the findings
/// grouped by control, status and reason, and the risks. At 100 accounts × 1,000 buckets there
/// are about 900,000 observations: each is 32 bytes here, and its text is made as it is written.
struct Plan<'f> {
    /// Each (account, subject) once, in that order, with its inventory item's UUID.
    subjects: Vec<PlannedSubject<'f>>,
    /// Each subject's evidence files once, in subject then file order, with the observation's
    /// UUID.
    observations: Vec<PlannedObservation<'f>>,
    /// Per group: its findings, as indices into the findings, in their order.
    groups: BTreeMap<GroupKey<'f>, Vec<u32>>,
    risks: BTreeMap<&'f str, PlannedRisk>,
}

struct PlannedSubject<'f> {
    account: &'f str,
    subject: &'f str,
    uuid: Uuid,
}

struct PlannedObservation<'f> {
    /// Its subject, by its place in [`Plan::subjects`].
    subject: u32,
    /// The file as findings.json names it. The findings share one text per file, so two
    /// references to the same file hold the same text.
    file: &'f Text,
    uuid: Uuid,
}

impl<'f> Plan<'f> {
    fn of(doc: &AssessmentResults<'f>) -> Plan<'f> {
        let findings = &doc.findings.findings;
        let subjects = Self::subjects_of(doc);
        let mut plan = Plan {
            observations: Vec::new(),
            groups: BTreeMap::new(),
            risks: BTreeMap::new(),
            subjects,
        };
        // A subject's findings come one after another: its files are told apart as they come,
        // and anything left twice (findings of one subject apart) goes when they are sorted.
        let mut current: Option<(u32, Vec<&'f Text>)> = None;
        let mut files: Vec<(u32, &'f Text)> = Vec::new();
        for (i, f) in findings.iter().enumerate() {
            let slot = match &current {
                Some((slot, _)) if plan.subject_is(*slot, f) => *slot,
                _ => {
                    let slot = plan.slot_of(f.account(), f.subject());
                    current = Some((slot, Vec::new()));
                    slot
                }
            };
            let seen = &mut current.as_mut().expect("the subject just set").1;
            for reference in f.evidence() {
                if !seen.iter().any(|&file| std::ptr::eq(file, reference.file)) {
                    seen.push(reference.file);
                    files.push((slot, reference.file));
                }
            }
            plan.groups
                .entry((f.control().as_str(), f.status(), f.reason().as_str()))
                .or_default()
                .push(u32::try_from(i).expect("fewer than 2^32 findings"));
            if matches!(f.status(), Status::Fail | Status::Excepted) {
                let risk = plan
                    .risks
                    .entry(f.control().as_str())
                    .or_insert_with(|| PlannedRisk {
                        uuid: doc.uuid_of("risk", f.control()),
                        failed: 0,
                        excepted: 0,
                    });
                match f.status() {
                    Status::Fail => risk.failed += 1,
                    _ => risk.excepted += 1,
                }
            }
        }
        files.sort_unstable_by(|a, b| (a.0, a.1.as_str()).cmp(&(b.0, b.1.as_str())));
        files.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
        plan.observations = (files.into_iter())
            .map(|(slot, file)| {
                let s = &plan.subjects[slot as usize];
                PlannedObservation {
                    subject: slot,
                    file,
                    uuid: doc.uuid_of(
                        "observation",
                        &format!("{}\u{0}{}\u{0}{file}", s.account, s.subject),
                    ),
                }
            })
            .collect();
        plan
    }

    /// Every (account, subject) of the findings once, in order, with its UUID.
    fn subjects_of(doc: &AssessmentResults<'f>) -> Vec<PlannedSubject<'f>> {
        let mut keys: Vec<(&'f str, &'f str)> = Vec::new();
        for f in doc.findings.findings.iter() {
            let key = (f.account().as_str(), f.subject().as_str());
            if keys.last() != Some(&key) {
                keys.push(key);
            }
        }
        keys.sort_unstable();
        keys.dedup();
        (keys.into_iter())
            .map(|(account, subject)| PlannedSubject {
                account,
                subject,
                uuid: doc.uuid_of("inventory-item", &format!("{account}\u{0}{subject}")),
            })
            .collect()
    }

    /// The place of (account, subject) in [`Plan::subjects`], if the findings name it.
    fn find(&self, account: &str, subject: &str) -> Option<u32> {
        (self.subjects)
            .binary_search_by(|s| (s.account, s.subject).cmp(&(account, subject)))
            .ok()
            .map(|slot| slot as u32)
    }

    /// The place of a finding's (account, subject), which the plan holds.
    fn slot_of(&self, account: &str, subject: &str) -> u32 {
        self.find(account, subject)
            .expect("every finding's subject is planned")
    }

    fn subject_is(&self, slot: u32, f: FindingRef<'_>) -> bool {
        let s = &self.subjects[slot as usize];
        s.account == f.account().as_str() && s.subject == f.subject().as_str()
    }

    /// The inventory item's UUID of (account, subject), if the findings name it.
    fn subject_uuid(&self, account: &str, subject: &str) -> Option<Uuid> {
        self.find(account, subject)
            .map(|slot| self.subjects[slot as usize].uuid)
    }

    /// The UUID of the observation of a finding's subject and evidence file.
    fn observation_uuid(&self, f: FindingRef<'_>, file: &Text) -> Uuid {
        let slot = self.slot_of(f.account(), f.subject());
        let first = (self.observations).partition_point(|o| o.subject < slot);
        let observed = self.observations[first..]
            .iter()
            .take_while(|o| o.subject == slot)
            .find(|o| o.file == file)
            .expect("every reference's file is planned");
        observed.uuid
    }
}

impl AssessmentResults<'_> {
    /// The subjects as inventory items: what each is, its account, and for a bucket its
    /// region and ePHI designation.
    fn inventory_item(&self, buckets: &BucketsByName<'_>, s: &PlannedSubject<'_>) -> InventoryItem {
        let (account, subject) = (s.account, s.subject);
        let mut props = Vec::new();
        props.extend(prop("subject", subject));
        props.extend(prop("account-id", account));
        let bucket = subject
            .strip_prefix("s3://")
            .and_then(|name| buckets.get(&(account, name)));
        let description = if let Some(bucket) = bucket {
            props.extend(prop("region", &bucket.region));
            if let Some(ephi) = &bucket.ephi {
                props.extend(prop("ephi", if ephi.ephi { "yes" } else { "no" }));
            }
            format!(
                "Amazon S3 bucket {} ({}) of AWS account {account}",
                bucket.name, bucket.region
            )
        } else if subject.starts_with("arn:") && subject.contains(":cloudtrail:") {
            format!("AWS CloudTrail trail {subject}")
        } else if subject.starts_with("arn:") && subject.contains(":kms:") {
            format!("AWS KMS key {subject}")
        } else if let Some(policy) = subject.strip_prefix("policy:") {
            format!("Dash administrative policy \"{policy}\" (attested documents)")
        } else if let Some(id) = subject.strip_prefix("account:") {
            format!("AWS account {id} (account-level settings)")
        } else {
            format!("{subject} of AWS account {account}")
        };
        InventoryItem {
            uuid: s.uuid.to_string(),
            description,
            props,
        }
    }

    fn risk(&self, control: &str, risk: &PlannedRisk) -> Risk {
        let found = self.catalog.controls.iter().find(|c| c.id == control);
        let mut props = Vec::new();
        props.extend(prop("control-id", control));
        if let Some(c) = found {
            props.extend(prop("severity", c.severity.as_str()));
        }
        Risk {
            uuid: risk.uuid.to_string(),
            title: found.map_or_else(|| control.to_string(), |c| c.title.clone()),
            description: found.map_or_else(
                || format!("Control {control} is not met."),
                |c| c.description.clone(),
            ),
            statement: format!(
                "Control {control} is not met on {} subject(s), {} of them under a documented \
                 exception. The findings that target objective {control} with reason fail or \
                 risk-accepted name each subject.",
                risk.failed + risk.excepted,
                risk.excepted
            ),
            props,
            // Open while any failure stands; accepted when every one is excepted.
            status: if risk.failed > 0 {
                "open"
            } else {
                "deviation-approved"
            },
        }
    }

    /// The access review (findings.json `access_review`): one observation per ePHI bucket
    /// listing who can read, write or manage it, and one per account not assessed.
    fn access_observations(&self, plan: &Plan<'_>) -> Vec<Observation> {
        let review = &self.findings.access_review;
        let evidence = || {
            vec![RelevantEvidence {
                href: Some("../findings.json#/access_review".to_string()),
                description: "The access review in findings.json, decided from the account's \
                              IAM evidence under ../evidence/ (each entry's `via` names the \
                              deciding statements)."
                    .to_string(),
            }]
        };
        let mut observations = Vec::new();
        for (account, why) in &review.not_assessed {
            let subject = format!("account:{account}");
            observations.push(Observation {
                uuid: self.uuid("access-review", account),
                description: format!(
                    "Access review of AWS account {account} not assessed: {why}. Who can reach \
                     its ePHI buckets is unknown, never none."
                ),
                methods: ["EXAMINE"],
                subjects: plan
                    .subject_uuid(account.as_str(), subject.as_str())
                    .map(|uuid| {
                        vec![SubjectRef {
                            subject_uuid: uuid.to_string(),
                            kind: "inventory-item",
                        }]
                    }),
                relevant_evidence: evidence(),
                collected: self.collected_at.clone(),
                remarks: None,
            });
        }
        let mut by_bucket: BTreeMap<(&str, &str), Vec<&crate::findings::AccessEntry>> =
            BTreeMap::new();
        for entry in &review.entries {
            by_bucket
                .entry((&*entry.account, entry.bucket.as_str()))
                .or_default()
                .push(entry);
        }
        for ((account, bucket), entries) in by_bucket {
            let lines: Vec<String> = entries
                .iter()
                .map(|e| {
                    format!(
                        "- {} ({}): read {}, write {}, manage {}; via {}",
                        e.principal,
                        e.kind,
                        e.read.as_str(),
                        e.write.as_str(),
                        e.manage.as_str(),
                        e.via.join(", ")
                    )
                })
                .collect();
            observations.push(Observation {
                uuid: self.uuid("access-review", &format!("{account}\u{0}{bucket}")),
                description: format!(
                    "Access review of ePHI bucket {bucket}: {} IAM principal(s) can read, write \
                     or manage it (the entries are listed in the remarks).",
                    entries.len()
                ),
                methods: ["EXAMINE"],
                subjects: plan.subject_uuid(account, bucket).map(|uuid| {
                    vec![SubjectRef {
                        subject_uuid: uuid.to_string(),
                        kind: "inventory-item",
                    }]
                }),
                relevant_evidence: evidence(),
                collected: self.collected_at.clone(),
                remarks: Some(lines.join("\n")),
            });
        }
        observations
    }
}

/// One catalog control as an OSCAL objective: the only place its text appears.
fn objective(control: &Control) -> LocalObjective {
    let mut props = Vec::new();
    props.extend(prop("family", &control.family));
    props.extend(prop("severity", control.severity.as_str()));
    for safeguard in control.safeguards.iter() {
        let title = SAFEGUARDS
            .iter()
            .find(|(id, _)| id == safeguard)
            .map(|(_, t)| *t);
        if let Some(mut p) = prop("hipaa-safeguard", safeguard) {
            p.remarks = title.map(|t| format!("45 CFR {safeguard} {t}"));
            props.push(p);
        }
    }
    props.extend(
        control
            .policies
            .iter()
            .filter_map(|p| prop("dash-policy", p)),
    );
    let mut links = vec![OwnedLink {
        href: CFR_164_312.to_string(),
        rel: "reference",
        text: "45 CFR 164.312 Technical safeguards".to_string(),
    }];
    links.extend(control.references.iter().map(|r| OwnedLink {
        href: r.url.clone(),
        rel: "reference",
        text: r.title.clone(),
    }));
    LocalObjective {
        control_id: control.id.clone(),
        description: control.title.clone(),
        props,
        links,
        parts: vec![
            Part {
                name: "objective",
                title: control.title.clone(),
                prose: control.description.clone(),
            },
            Part {
                name: "method",
                title: "Deciding evidence".to_string(),
                prose: format!(
                    "Decided from the recorded answers of: {}.",
                    control.evidence.join(", ")
                ),
            },
            Part {
                name: "remediation",
                title: "Remediation".to_string(),
                prose: format!(
                    "{}\n\nCLI: `{}`\n\nConsole: {}",
                    control.remediation.summary,
                    control.remediation.cli,
                    control.remediation.console
                ),
            },
        ],
    }
}

/// A prop in phi-audit's namespace, or nothing when the value is blank (OSCAL string values
/// are single-line with no surrounding whitespace).
fn prop(name: &'static str, value: &str) -> Option<Prop<String>> {
    string_value(value).map(|value| Prop {
        name,
        ns: NS,
        value,
        remarks: None,
    })
}

/// OSCAL's StringDatatype: non-empty, one line, no leading or trailing whitespace.
fn string_value(text: &str) -> Option<String> {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!joined.is_empty()).then_some(joined)
}

/// An RFC 3339 time normalised to UTC, as OSCAL's date-time pattern accepts it.
fn oscal_time(field: &'static str, value: &str) -> Result<String, OscalTimeError> {
    let error = || OscalTimeError {
        field,
        value: value.to_string(),
    };
    let time = DateTime::parse_from_rfc3339(value)
        .map_err(|_| error())?
        .with_timezone(&Utc);
    if !(1900..=2999).contains(&time.year()) {
        return Err(error());
    }
    Ok(time.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// RFC 4122 version 5 (SHA-1, name-based) UUID in the URL name space.
pub fn uuid_v5(name: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(NAMESPACE_URL);
    hasher.update(name.as_bytes());
    format_uuid_v5(&hasher.finalize())
}

/// A version 5 UUID as its 16 bytes: a plan holds one per subject and evidence file (about
/// 900,000 at 100 accounts × 1,000 buckets), each written out where it is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Uuid([u8; 16]);

impl Uuid {
    /// The first 16 bytes of a SHA-1 digest with the version 5 and RFC 4122 variant bits set.
    fn v5(digest: &[u8]) -> Uuid {
        let mut b = [0u8; 16];
        b.copy_from_slice(&digest[..16]);
        b[6] = (b[6] & 0x0f) | 0x50;
        b[8] = (b[8] & 0x3f) | 0x80;
        Uuid(b)
    }
}

impl std::fmt::Display for Uuid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hex = crate::snapshot::hex(&self.0);
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    }
}

fn format_uuid_v5(digest: &[u8]) -> String {
    Uuid::v5(digest).to_string()
}

/// The scope's buckets by account and name.
type BucketsByName<'s> = HashMap<(&'s str, &'s str), &'s crate::snapshot::BucketListing>;

/// The inventory items, an item per subject, each made as it is written (at 100 accounts ×
/// 1,000 buckets, held together they were 50 MB).
struct Inventory<'p, 'f> {
    doc: &'p AssessmentResults<'f>,
    plan: &'p Plan<'f>,
}

impl Serialize for Inventory<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let buckets: BucketsByName<'_> = (self.doc.scope.accounts.iter())
            .flat_map(|a| (a.buckets.iter()).map(move |b| ((a.id.as_str(), b.name.as_str()), b)))
            .collect();
        let items = (self.plan.subjects.iter()).map(|s| self.doc.inventory_item(&buckets, s));
        serializer.collect_seq(items)
    }
}

// The document's parts, in OSCAL's key order. Optional arrays are `None` rather than empty,
// since OSCAL arrays have at least one item.

struct Header<'p, 'f> {
    uuid: String,
    metadata: Metadata,
    import_ap: ImportAp,
    local_definitions: LocalDefinitions,
    result: ResultHead<'p, 'f>,
    back_matter: BackMatter,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Metadata {
    title: String,
    last_modified: String,
    version: &'static str,
    oscal_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    roles: Option<Vec<Role>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parties: Option<Vec<Party>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    responsible_parties: Option<Vec<ResponsibleParty>>,
}

#[derive(Serialize)]
struct Role {
    id: &'static str,
    title: &'static str,
}

#[derive(Serialize)]
struct Party {
    uuid: String,
    #[serde(rename = "type")]
    kind: &'static str,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ResponsibleParty {
    role_id: &'static str,
    party_uuids: Vec<String>,
}

#[derive(Serialize)]
struct ImportAp {
    href: String,
    remarks: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct LocalDefinitions {
    objectives_and_methods: Vec<LocalObjective>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct LocalObjective {
    control_id: String,
    description: String,
    props: Vec<Prop<String>>,
    links: Vec<OwnedLink>,
    parts: Vec<Part>,
}

#[derive(Serialize)]
struct Part {
    name: &'static str,
    title: String,
    prose: String,
}

#[derive(Serialize)]
struct Prop<V> {
    name: &'static str,
    ns: &'static str,
    value: V,
    #[serde(skip_serializing_if = "Option::is_none")]
    remarks: Option<String>,
}

#[derive(Serialize)]
struct OwnedLink {
    href: String,
    rel: &'static str,
    text: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Link {
    href: &'static str,
    rel: &'static str,
    media_type: &'static str,
    text: &'static str,
}

/// The result without its closing brace (see [`AssessmentResults::write`]).
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ResultHead<'p, 'f> {
    uuid: String,
    title: String,
    description: String,
    start: String,
    end: String,
    props: Vec<Prop<String>>,
    links: Vec<Link>,
    local_definitions: ResultLocalDefinitions<'p, 'f>,
    reviewed_controls: ReviewedControls,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ResultLocalDefinitions<'p, 'f> {
    #[serde(skip_serializing_if = "Option::is_none")]
    inventory_items: Option<Inventory<'p, 'f>>,
    assessment_assets: AssessmentAssets,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct AssessmentAssets {
    components: [Component; 1],
    assessment_platforms: [Platform; 1],
}

#[derive(Serialize)]
struct Component {
    uuid: String,
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    description: &'static str,
    props: [Prop<String>; 1],
    status: ComponentStatus,
}

#[derive(Serialize)]
struct ComponentStatus {
    state: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Platform {
    uuid: String,
    title: String,
    uses_components: [UsesComponent; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct UsesComponent {
    component_uuid: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ReviewedControls {
    description: &'static str,
    control_selections: [ControlSelection; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ControlSelection {
    include_controls: Vec<SelectControl>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct SelectControl {
    control_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct InventoryItem {
    uuid: String,
    description: String,
    props: Vec<Prop<String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Observation {
    uuid: String,
    description: String,
    methods: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    subjects: Option<Vec<SubjectRef>>,
    relevant_evidence: Vec<RelevantEvidence>,
    collected: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    remarks: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct SubjectRef {
    subject_uuid: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct RelevantEvidence {
    #[serde(skip_serializing_if = "Option::is_none")]
    href: Option<String>,
    description: String,
}

#[derive(Serialize)]
struct Risk {
    uuid: String,
    title: String,
    description: String,
    statement: String,
    props: Vec<Prop<String>>,
    status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct RelatedRisk {
    risk_uuid: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct OscalFinding {
    uuid: String,
    title: String,
    description: String,
    props: Vec<Prop<String>>,
    target: Target,
    #[serde(skip_serializing_if = "Option::is_none")]
    related_observations: Option<Vec<RelatedObservation>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    related_risks: Option<Vec<RelatedRisk>>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Target {
    #[serde(rename = "type")]
    kind: &'static str,
    target_id: String,
    status: TargetStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    implementation_status: Option<ImplementationStatus>,
}

#[derive(Serialize)]
struct TargetStatus {
    state: &'static str,
    reason: &'static str,
}

#[derive(Serialize)]
struct ImplementationStatus {
    state: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct RelatedObservation {
    observation_uuid: String,
}

#[derive(Serialize)]
struct BackMatter {
    resources: [Resource; 1],
}

#[derive(Serialize)]
struct Resource {
    uuid: String,
    title: &'static str,
    description: &'static str,
    rlinks: [Rlink; 2],
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Rlink {
    href: &'static str,
    media_type: &'static str,
}

/// Passes writes on but the last byte, which it holds back: a JSON object written through it
/// stays open for the arrays streamed after its fields.
struct AllButLast<'w> {
    out: &'w mut dyn Write,
    held: Option<u8>,
}

impl Write for AllButLast<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some((&last, rest)) = buf.split_last() else {
            return Ok(0);
        };
        if let Some(held) = self.held.take() {
            self.out.write_all(&[held])?;
        }
        self.out.write_all(rest)?;
        self.held = Some(last);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::refs::percent_encode;

    #[test]
    fn uuids_are_rfc_4122_version_5() {
        // Python: uuid.uuid5(uuid.NAMESPACE_URL, "urn:phi-audit:test")
        assert_eq!(
            uuid_v5("urn:phi-audit:test"),
            "d1bfff4f-a0f6-5afc-ac61-13941fe7fafb"
        );
    }

    #[test]
    fn hrefs_keep_pointers_readable_and_encode_the_rest() {
        assert_eq!(
            percent_encode("/trails/arn:aws:cloudtrail:us-east-1:1:trail~1x/GetTrailStatus"),
            "/trails/arn:aws:cloudtrail:us-east-1:1:trail~1x/GetTrailStatus"
        );
        assert_eq!(percent_encode("my file#%.yaml"), "my%20file%23%25.yaml");
    }

    #[test]
    fn times_are_normalised_to_utc_and_out_of_range_years_refused() {
        assert_eq!(
            oscal_time("t", "2026-10-02T11:00:00+02:00").unwrap(),
            "2026-10-02T09:00:00Z"
        );
        assert!(oscal_time("t", "3026-10-02T09:00:00Z").is_err());
        assert!(oscal_time("t", "yesterday").is_err());
    }

    #[test]
    fn string_values_are_one_trimmed_line_or_nothing() {
        assert_eq!(string_value("  a\n b "), Some("a b".to_string()));
        assert_eq!(string_value(" \n"), None);
    }
}
