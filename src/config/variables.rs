//! Every `DELIBIRD_*` variable delibird reads, and the warning for one it does not: a variable
//! set with a typo (`DELIBIRD_DEDUPE_TABLE`) is silently ignored otherwise, and the setting it
//! meant is not in effect.

use std::fmt;

use crate::suggest::closest;

/// The variables delibird reads, as the module's table and docs/configuration.md list them.
pub const VARIABLES: &[&str] = &[
    "DELIBIRD_WEBHOOK_URL",
    "DELIBIRD_WEBHOOK_SECRET",
    "DELIBIRD_RULES",
    "DELIBIRD_ALLOW_LOOPBACK_WEBHOOK",
    "DELIBIRD_ACCOUNT_ALIASES",
    "DELIBIRD_SEVERITY_CRITICAL_KEYWORDS",
    "DELIBIRD_SEVERITY_HIGH_KEYWORDS",
    "DELIBIRD_SEVERITY_WARNING_KEYWORDS",
    "DELIBIRD_LANGUAGE",
    "DELIBIRD_HTTP_TIMEOUT_MS",
    "DELIBIRD_RETRY_MAX_ATTEMPTS",
    "DELIBIRD_RETRY_BASE_MS",
    "DELIBIRD_RETRY_CAP_MS",
    "DELIBIRD_DEADLINE_MARGIN_MS",
    "DELIBIRD_WEBHOOK_INTERVAL_MS",
    "DELIBIRD_DEDUP_TABLE",
    "DELIBIRD_DEDUP_TTL_DAYS",
    "DELIBIRD_FOLD_BACKUP_COPIES",
    "DELIBIRD_FOLD_PAGES",
    "DELIBIRD_ROLLUP",
    "DELIBIRD_REMINDERS",
    "DELIBIRD_DIGEST_AT",
    "DELIBIRD_DIGEST_TZ",
    "DELIBIRD_DIGEST_EMPTY",
    "DELIBIRD_ACCOUNT_LOOKUP",
    "DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN",
    "DELIBIRD_ACCOUNT_TAGS",
    "DELIBIRD_ACCOUNT_OU",
    "DELIBIRD_ACCOUNT_CACHE_TTL_S",
    "DELIBIRD_ACCOUNT_LOOKUP_TIMEOUT_MS",
    "DELIBIRD_LOG",
];

/// Variables the repository's tests, benchmarks and scripts read, never delibird itself: not
/// worth a warning where they are set.
const DEVELOPMENT: &[&str] = &[
    "DELIBIRD_BENCH_PAIRED",
    "DELIBIRD_BENCH_RUNS",
    "DELIBIRD_BLESS",
    "DELIBIRD_BOOTSTRAP_BIN",
    "DELIBIRD_BOOTSTRAP_RUNNER",
    "DELIBIRD_CHROMIUM",
    "DELIBIRD_CLI",
    "DELIBIRD_DENY_ADVISORIES",
    "DELIBIRD_MOTO_SERVER",
];

/// Prefixes of development variables that come in families.
const DEVELOPMENT_PREFIXES: &[&str] = &["DELIBIRD_DEPLOYMENT_TEST"];

/// Where a rules file may keep a webhook URL (`env:DELIBIRD_WEBHOOK_ONCALL`): such a name is not
/// warned about unless it is a near miss of a variable delibird reads.
const WEBHOOK_PREFIX: &str = "DELIBIRD_WEBHOOK_";

/// A `DELIBIRD_*` variable that is set but that delibird does not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVariable {
    /// Its name.
    pub name: String,
    /// The variable it most likely means.
    pub suggestion: Option<&'static str>,
}

impl fmt::Display for UnknownVariable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is set, but delibird reads no such variable", self.name)?;
        match self.suggestion {
            Some(meant) => write!(f, ": did you mean {meant}?"),
            None => f.write_str(", so it changes nothing"),
        }
    }
}

/// The `DELIBIRD_*` names among `names` (an environment's) that delibird does not read, each with
/// the variable it most likely means. `webhooks` are the variables a rules file keeps webhook
/// URLs in (`env:VAR`), which are read.
pub fn unknown_variables<'a>(names: impl IntoIterator<Item = &'a str>, webhooks: &[&str]) -> Vec<UnknownVariable> {
    let mut unknown: Vec<UnknownVariable> = names
        .into_iter()
        .filter(|name| name.starts_with("DELIBIRD_"))
        .filter(|name| !VARIABLES.contains(name) && !DEVELOPMENT.contains(name) && !webhooks.contains(name))
        .filter(|name| !DEVELOPMENT_PREFIXES.iter().any(|prefix| name.starts_with(prefix)))
        .filter_map(|name| {
            // Compared without the prefix every name shares, which would make any two look close.
            let suggestion = closest(short(name), VARIABLES.iter().copied().map(short))
                .and_then(|near| VARIABLES.iter().copied().find(|variable| short(variable) == near));
            // A webhook kept by a rules file that is not read yet (in SSM) is given the benefit
            // of the doubt, unless it is one edit or so from a real variable.
            let webhook = name.starts_with(WEBHOOK_PREFIX) && suggestion.is_none();
            (!webhook).then(|| UnknownVariable { name: name.to_owned(), suggestion })
        })
        .collect();
    unknown.sort_by(|a, b| a.name.cmp(&b.name));
    unknown
}

/// A variable's name without the `DELIBIRD_` every one has.
fn short(variable: &str) -> &str {
    variable.strip_prefix("DELIBIRD_").unwrap_or(variable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_variable_is_reported_with_the_one_it_means() {
        let found = unknown_variables(["DELIBIRD_DEDUPE_TABLE", "DELIBIRD_DEDUP_TABLE", "HOME"], &[]);
        assert_eq!(
            found,
            [UnknownVariable { name: "DELIBIRD_DEDUPE_TABLE".into(), suggestion: Some("DELIBIRD_DEDUP_TABLE") }]
        );
        assert_eq!(
            found[0].to_string(),
            "DELIBIRD_DEDUPE_TABLE is set, but delibird reads no such variable: did you mean DELIBIRD_DEDUP_TABLE?"
        );
        let far = unknown_variables(["DELIBIRD_COLOUR"], &[]);
        assert_eq!(
            far[0].to_string(),
            "DELIBIRD_COLOUR is set, but delibird reads no such variable, so it changes nothing"
        );
    }

    #[test]
    fn webhooks_of_rules_and_development_variables_are_not_reported() {
        assert!(
            unknown_variables(["DELIBIRD_WEBHOOK_ONCALL", "DELIBIRD_MOTO_SERVER", "DELIBIRD_DEPLOYMENT_TEST_X"], &[])
                .is_empty()
        );
        let near_miss = unknown_variables(["DELIBIRD_WEBHOOK_ULR"], &[]);
        assert_eq!(near_miss[0].suggestion, Some("DELIBIRD_WEBHOOK_URL"));
        assert!(
            unknown_variables(["DELIBIRD_WEBHOOK_ULR"], &["DELIBIRD_WEBHOOK_ULR"]).is_empty(),
            "a rules file reads it"
        );
    }

    #[test]
    fn every_variable_the_configuration_reads_is_known() {
        let mut read = Vec::new();
        for file in [include_str!("mod.rs"), include_str!("sources.rs")] {
            let mut rest = file;
            while let Some(at) = rest.find("\"DELIBIRD_") {
                rest = &rest[at + 1..];
                let name: String = rest.chars().take_while(|c| c.is_ascii_uppercase() || *c == '_').collect();
                if !name.ends_with('_') {
                    read.push(name);
                }
            }
        }
        read.push("DELIBIRD_LOG".into());
        for name in &read {
            assert!(VARIABLES.contains(&name.as_str()), "{name} is read but not in VARIABLES");
        }
        for name in VARIABLES {
            assert!(read.iter().any(|r| r == name), "{name} is in VARIABLES but never read");
        }
    }

    #[test]
    fn every_variable_is_in_the_modules_table_and_in_the_configuration_guide() {
        let table = include_str!("mod.rs");
        let guide = include_str!("../../docs/configuration.md");
        for name in VARIABLES {
            let (short, long) = (name.trim_start_matches("DELIBIRD_SEVERITY_"), format!("`{name}`"));
            assert!(table.contains(&long) || table.contains(short), "{name} is missing from config's table");
            assert!(guide.contains(&long), "{name} is missing from docs/configuration.md");
        }
    }
}
