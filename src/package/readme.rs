//! README.txt: what the bundle holds and how to check it on Linux, macOS and Windows with
//! standard tools, before and without phi-audit.

use crate::audit::Audit;
use crate::bundle::format::CHANGES;
use crate::diff::previous::ChangesSincePrevious;
use crate::report;

use super::Options;

/// README.txt's line for `changes-since-previous.json` in the contents, and its paragraph.
fn readme_previous(previous: Option<&ChangesSincePrevious>) -> (String, String) {
    let Some(previous) = previous else {
        return (String::new(), String::new());
    };
    let old = &previous.diff.old;
    let entry = format!(
        "{CHANGES}\n\
         \x20                what changed since the previous bundle (format phi-audit-diff/1)\n"
    );
    let paragraph = format!(
        "Changes since the previous review\n\
         ---------------------------------\n\
         The report's \"Changes since last review\" section and {CHANGES} compare this\n\
         bundle with the previous one, which phi-audit verified intact before comparing:\n\n\
         Previous bundle:         {bundle}\n\
         Its report generated:    {generated}\n\
         Its evidence collected:  {collected}\n\
         SHA-256 of its MANIFEST.sha256:\n\
         \x20   {manifest}\n\n\
         With both bundles in one directory, the same comparison is printed by:\n\n\
         \x20   phi-audit diff {bundle} {new} --format json\n\n",
        bundle = old.bundle,
        generated = old.generated_at,
        collected = old.collected_at,
        manifest = previous.previous_manifest_sha256,
        new = previous.diff.new.bundle,
    );
    (entry, paragraph)
}

/// What README.txt says besides the audit: the comparison, the signing key, the TSA. Taken
/// from the bundle's options before the workers start (a time-stamping client stays on the
/// calling thread).
pub(super) struct Said<'a> {
    pub previous: Option<&'a ChangesSincePrevious>,
    pub sign_key: Option<&'a crate::bundle::sign::SecretKey>,
    pub timestamp_source: Option<String>,
}

impl<'a> Said<'a> {
    pub fn of(options: &Options<'a>) -> Said<'a> {
        Said {
            previous: options.previous,
            sign_key: options.sign_key,
            timestamp_source: options.timestamper.map(|t| t.source().to_string()),
        }
    }
}

pub(super) fn readme(audit: &Audit, options: &Said<'_>, cover: &report::model::Cover) -> String {
    let f = &audit.findings;
    let (previous_entry, previous_paragraph) = readme_previous(options.previous);
    let timestamp_source = options.timestamp_source.as_deref();
    let timestamped = match timestamp_source {
        Some(source) => format!(
            "\nThis bundle carries a trusted timestamp: MANIFEST.sha256.tsr is an RFC 3161 time-stamp\n\
             token from the time-stamping authority at {source}, over the SHA-256 of\n\
             MANIFEST.sha256. It proves the manifest, and so every file it lists, existed at the time\n\
             it states. Get the authority's CA certificate (tsa-ca.pem) from the authority, then:\n\n\
             \x20   openssl ts -verify -in MANIFEST.sha256.tsr -data MANIFEST.sha256 -CAfile tsa-ca.pem\n\
             \x20   openssl ts -reply -in MANIFEST.sha256.tsr -text     # the \"Time stamp:\" line\n\n\
             The first must print \"Verification: OK\". With phi-audit:\n\n\
             \x20   phi-audit verify bundle.zip --tsa-cert tsa-ca.pem\n"
        ),
        None => String::new(),
    };
    let signed = match options.sign_key {
        Some(key) => format!(
            "This bundle is signed: MANIFEST.sha256.sig is a minisign signature of MANIFEST.sha256 made\n\
             with the key whose id is {}. Ask the organisation for its public key file\n\
             (phi-audit.pub) through a channel other than this bundle, then run:\n\n\
             \x20   minisign -Vm MANIFEST.sha256 -x MANIFEST.sha256.sig -p phi-audit.pub\n\n\
             minisign prints the trusted comment, which names the account, the snapshot digest and\n\
             the generation time; they must match the ones above.\n",
            key.public().key_id_hex()
        ),
        None => "This bundle is not signed (no MANIFEST.sha256.sig): the manifest proves the files belong\n\
                 together, but not who produced them. Compare MANIFEST.sha256's own SHA-256 with the value\n\
                 the organisation gives you through another channel.\n"
            .to_string(),
    };
    format!(
        "phi-audit evidence bundle\n\
         =========================\n\n\
         HIPAA Security Rule (45 CFR 164.312) evidence for the Amazon S3 configuration of\n\
         {subject} ({organisation}).\n\n\
         Evidence collected:  {collected}\n\
         Report generated:    {generated}\n\
         Review period:       {period}\n\
         Snapshot digest:     {digest}\n\
         Tool:                phi-audit {tool}\n\n\
         Contents\n\
         --------\n\
         report.pdf       the audit report: summary, 164.312 coverage (every specification, Required or\n\
         \x20                Addressable, what covers it, a conclusion), a section per safeguard, one per\n\
         \x20                policy, inventory, exceptions, configuration changes and method\n\
         report.html      the same report as a single self-contained web page\n\
         findings.csv     one row per finding (cells that a spreadsheet would run as formulas are\n\
         \x20                prefixed with an apostrophe)\n\
         access-review.csv  who can read, write or manage each ePHI bucket: one row per bucket\n\
         \x20                and IAM user or role (neutralised like findings.csv)\n\
         findings.json    the same findings, machine-readable (format phi-audit-findings/1)\n\
         {previous_entry}\
         oscal/           assessment-results.json: the same findings as a NIST OSCAL 1.1.2\n\
         \x20                assessment-results document, linked to the evidence below\n\
         evidence/        the raw API answers exactly as collected (the snapshot), byte for byte:\n\
         \x20                they may hold identifiers (a tag with a patient's social security\n\
         \x20                number or e-mail address) that the documents above mask; handle them\n\
         \x20                as PHI\n\
         attestations/    the policy attestations and risk exceptions as given, with the policy\n\
         \x20                documents they name, if any\n\
         catalog/         policies.yaml: with attestations, the policy definitions they were\n\
         \x20                judged against (the administrative findings cite it)\n\
         MANIFEST.sha256  the SHA-256 of every other file\n\n\
         {previous_paragraph}\
         How to check that nothing was changed\n\
         -------------------------------------\n\
         Unzip the bundle and run these in its top directory (the one holding MANIFEST.sha256).\n\n\
         Linux (coreutils; also WSL):\n\n\
         \x20   unzip -q bundle.zip -d bundle && cd bundle\n\
         \x20   sha256sum -c MANIFEST.sha256          # every line must say OK\n\
         \x20   find . -type f ! -name 'MANIFEST.sha256*' | sed 's|^\\./||' | LC_ALL=C sort > /tmp/files\n\
         \x20   cut -c67- MANIFEST.sha256 | LC_ALL=C sort | diff - /tmp/files   # no extra files\n\n\
         macOS (shasum comes with the system's Perl):\n\n\
         \x20   unzip -q bundle.zip -d bundle && cd bundle\n\
         \x20   shasum -a 256 -c MANIFEST.sha256      # every line must say OK\n\n\
         Windows (PowerShell; Expand-Archive unzips):\n\n\
         \x20   Expand-Archive bundle.zip -DestinationPath bundle; cd bundle\n\
         \x20   {powershell}\n\n\
         The last prints one line per file and must print no FAILED line.\n\n\
         The snapshot digest above is recomputed from evidence/ with:\n\n\
         \x20   cd evidence && find . -type f | sed 's|^\\./||' | LC_ALL=C sort | xargs sha256sum | sha256sum\n\n\
         With phi-audit:  phi-audit verify bundle.zip [--public-key phi-audit.pub]\n\n\
         {signed}{timestamped}\n\
         Every zip entry carries the same timestamp (the generation time, UTC), so the same snapshot\n\
         and generation time always give the same bytes.\n",
        subject = cover.header_subject,
        organisation = cover.organisation,
        collected = f.snapshot.collected_at,
        generated = f.generated_at,
        period = cover.review_period,
        digest = f.snapshot.digest,
        tool = env!("CARGO_PKG_VERSION"),
        previous_entry = previous_entry,
        previous_paragraph = previous_paragraph,
        powershell = README_POWERSHELL_CHECK,
    )
}

/// README.txt's Windows check of MANIFEST.sha256: each line is `<hex>  <path>`; PowerShell's
/// `-eq` compares the hex without regard to case (Get-FileHash prints upper case).
pub const README_POWERSHELL_CHECK: &str = "Get-Content MANIFEST.sha256 | ForEach-Object { $h, $p = $_ -split '  ', 2; if ((Get-FileHash -Algorithm SHA256 -LiteralPath $p).Hash -eq $h) { \"OK  $p\" } else { \"FAILED  $p\" } }";
