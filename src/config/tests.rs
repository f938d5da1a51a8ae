use std::collections::HashMap;

use super::*;
use crate::kept::{KeptError, WebhookUrlError};

fn config(vars: &[(&str, &str)], webhook: Webhook) -> Result<Config, ConfigErrors> {
    let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Config::from_vars(|name| vars.get(name).cloned(), webhook)
}

#[test]
fn reports_every_bad_variable_at_once() {
    let errors = config(
        &[
            ("DELIBIRD_WEBHOOK_URL", "https://example.com/hook?token=SECRET"),
            ("DELIBIRD_ACCOUNT_ALIASES", "{\"12\": \"x\"}"),
            ("DELIBIRD_RETRY_MAX_ATTEMPTS", "0"),
            ("DELIBIRD_HTTP_TIMEOUT_MS", "soon"),
        ],
        Webhook::Required,
    )
    .unwrap_err();
    let variables: Vec<&str> = errors.0.iter().map(|e| e.variable).collect();
    assert_eq!(
        variables,
        ["DELIBIRD_WEBHOOK_URL", "DELIBIRD_ACCOUNT_ALIASES", "DELIBIRD_HTTP_TIMEOUT_MS", "DELIBIRD_RETRY_MAX_ATTEMPTS"]
    );
    assert!(!errors.to_string().contains("SECRET"));
}

#[test]
fn requires_a_webhook_only_when_delivering() {
    assert!(config(&[], Webhook::Optional).is_ok());
    let errors = config(&[], Webhook::Required).unwrap_err();
    assert_eq!(errors.0[0].variable, "DELIBIRD_WEBHOOK_URL");
}

#[test]
fn rendering_ignores_the_webhook_variables() {
    let bad = [("DELIBIRD_WEBHOOK_URL", "https://example.com/x")];
    assert!(config(&bad, Webhook::Optional).is_err());
    assert_eq!(config(&bad, Webhook::Ignored).unwrap().webhook, None);
}

#[test]
fn reads_dedup_and_folding_settings() {
    let config = config(
        &[
            ("DELIBIRD_DEDUP_TABLE", "delibird-dedup"),
            ("DELIBIRD_DEDUP_TTL_DAYS", "7"),
            ("DELIBIRD_FOLD_PAGES", "0"),
            ("DELIBIRD_WEBHOOK_INTERVAL_MS", "250"),
        ],
        Webhook::Optional,
    )
    .unwrap();
    assert_eq!(config.dedup_table.as_deref(), Some("delibird-dedup"));
    assert_eq!(config.dedup_ttl, Duration::from_secs(7 * 86_400));
    assert_eq!(config.folding, Folding { backup_copies: true, later_pages: false, accounts: true });
    assert_eq!(config.webhook_interval, Duration::from_millis(250));
    assert!(
        super::Config::from_vars(|n| (n == "DELIBIRD_FOLD_PAGES").then(|| "maybe".into()), Webhook::Optional).is_err()
    );
}

#[test]
fn reads_the_organizations_lookup() {
    let loaded = config(
        &[
            ("DELIBIRD_ACCOUNT_LOOKUP", "organizations"),
            ("DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN", "arn:aws:iam::111122223333:role/delibird-accounts"),
            ("DELIBIRD_ACCOUNT_TAGS", "Owner, Team"),
            ("DELIBIRD_ACCOUNT_CACHE_TTL_S", "600"),
        ],
        Webhook::Optional,
    )
    .unwrap();
    let lookup = loaded.organizations.unwrap();
    assert_eq!(lookup.role_arns, ["arn:aws:iam::111122223333:role/delibird-accounts"]);
    assert_eq!(lookup.settings.tag_keys, ["Owner", "Team"]);
    assert_eq!(lookup.settings.ttl, Duration::from_secs(600));
    let bad = [("DELIBIRD_ACCOUNT_LOOKUP", "ldap"), ("DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN", "delibird")];
    assert_eq!(config(&bad, Webhook::Optional).unwrap_err().0.len(), 2);
}

#[test]
fn reads_secret_sources() {
    let ssm = config(&[("DELIBIRD_WEBHOOK_SECRET", "ssm:/delibird/webhook")], Webhook::Required).unwrap();
    assert_eq!(ssm.webhook, Some(Kept::Ssm("/delibird/webhook".into())));
    let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:delibird-AbCdEf";
    let sm = config(&[("DELIBIRD_WEBHOOK_SECRET", arn)], Webhook::Required).unwrap();
    assert_eq!(sm.webhook, Some(Kept::SecretsManager(arn.into())));
    assert!(config(&[("DELIBIRD_WEBHOOK_SECRET", "/no/prefix")], Webhook::Required).is_err());
}

fn rules_file(name: &str, text: &str) -> String {
    let path = std::env::temp_dir().join(format!("delibird-config-{}-{name}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn rules_make_the_webhook_optional_and_are_compiled_with_the_rest() {
    let path = rules_file("good", "drop_unmatched = true\n[webhooks]\noncall = \"env:HOOK\"\n");
    let loaded = config(&[("DELIBIRD_RULES", &path)], Webhook::Required).unwrap();
    assert!(matches!(loaded.rules, Some(RulesConfig::Loaded(_))), "{:?}", loaded.rules);
    assert_eq!(loaded.webhook, None);
    let ssm = config(&[("DELIBIRD_RULES", "ssm:/delibird/rules")], Webhook::Required).unwrap();
    assert_eq!(ssm.rules, Some(RulesConfig::Ssm("/delibird/rules".into())));
    assert_eq!(config(&[("DELIBIRD_RULES", &path)], Webhook::Ignored).unwrap().rules, None, "render ignores them");
}

#[test]
fn every_bad_rule_is_reported_with_the_other_problems() {
    let path = rules_file(
        "bad",
        "drop_unmatched = true\n[[rule]]\nname = \"a\"\nwhere = \"region =\"\nwebhooks = []\n\
         [[rule]]\nname = \"b\"\nwhere = \"delibird.account.tags.Team = 'x'\"\nwebhooks = []\n",
    );
    let errors =
        config(&[("DELIBIRD_RULES", &path), ("DELIBIRD_RETRY_MAX_ATTEMPTS", "0")], Webhook::Required).unwrap_err();
    let variables: Vec<&str> = errors.0.iter().map(|e| e.variable).collect();
    assert_eq!(variables, ["DELIBIRD_RETRY_MAX_ATTEMPTS", "DELIBIRD_RULES", "DELIBIRD_RULES"]);
    let shown = errors.to_string();
    assert!(shown.contains("rule \"a\" (line 4): where, line 1, column 9: Expected: an expression"), "{shown}");
    assert!(shown.contains("DELIBIRD_ACCOUNT_TAGS does not name Team"), "{shown}");
    assert!(config(&[("DELIBIRD_RULES", "/no/such/rules.toml")], Webhook::Required).is_err());
}

#[test]
fn refuses_loopback_unless_allowed() {
    let url = ("DELIBIRD_WEBHOOK_URL", "http://127.0.0.1:9/v1/spaces/A/messages?key=k&token=t");
    assert!(config(&[url], Webhook::Required).is_err());
    assert!(config(&[url, ("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK", "1")], Webhook::Required).is_ok());
}

#[test]
fn each_problem_says_what_was_found_and_what_was_expected() {
    let errors = config(
        &[
            ("DELIBIRD_RETRY_MAX_ATTEMPTS", "0"),
            ("DELIBIRD_HTTP_TIMEOUT_MS", "soon"),
            ("DELIBIRD_FOLD_PAGES", "maybe"),
            ("DELIBIRD_RETRY_BASE_MS", "900"),
            ("DELIBIRD_RETRY_CAP_MS", "800"),
        ],
        Webhook::Optional,
    )
    .unwrap_err();
    let kinds: Vec<(&str, &ConfigProblem)> = errors.0.iter().map(|e| (e.variable, &e.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("DELIBIRD_HTTP_TIMEOUT_MS", &ConfigProblem::NotANumber { found: "soon".into() }),
            ("DELIBIRD_RETRY_MAX_ATTEMPTS", &ConfigProblem::OutOfRange { min: 1, max: 20, found: 0 }),
            ("DELIBIRD_RETRY_CAP_MS", &ConfigProblem::Below { other: "DELIBIRD_RETRY_BASE_MS" }),
            ("DELIBIRD_FOLD_PAGES", &ConfigProblem::NotASwitch { found: "maybe".into() }),
        ]
    );
    assert_eq!(
        errors.to_string(),
        "invalid configuration: DELIBIRD_HTTP_TIMEOUT_MS: expected a whole number, found \"soon\"; \
         DELIBIRD_RETRY_MAX_ATTEMPTS: expected 1 to 20, found 0; \
         DELIBIRD_RETRY_CAP_MS: must not be below DELIBIRD_RETRY_BASE_MS; \
         DELIBIRD_FOLD_PAGES: expected 1 or 0, found \"maybe\""
    );
}

#[test]
fn an_unreadable_aliases_file_keeps_the_io_error_as_its_source() {
    let errors = config(&[("DELIBIRD_ACCOUNT_ALIASES", "@/no/such/aliases.json")], Webhook::Optional).unwrap_err();
    let ConfigProblem::Unreadable { path, source } = &errors.0[0].kind else { panic!("{errors}") };
    assert_eq!((path.as_str(), source.0.kind()), ("/no/such/aliases.json", std::io::ErrorKind::NotFound));
    assert!(std::error::Error::source(&errors.0[0].kind).is_some());
    let errors = config(&[("DELIBIRD_ACCOUNT_ALIASES", "[1]")], Webhook::Optional).unwrap_err();
    assert!(matches!(&errors.0[0].kind, ConfigProblem::Aliases { file: None, .. }), "{errors}");
}

#[test]
fn the_webhook_sources_problems_are_typed_and_keep_their_causes() {
    let both = config(
        &[
            ("DELIBIRD_WEBHOOK_URL", "https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t"),
            ("DELIBIRD_WEBHOOK_SECRET", "ssm:/delibird/webhook"),
        ],
        Webhook::Required,
    )
    .unwrap_err();
    assert_eq!(both.0[0].kind, ConfigProblem::BothWebhooks);
    assert_eq!(
        both.to_string(),
        "invalid configuration: DELIBIRD_WEBHOOK_URL: set only one of DELIBIRD_WEBHOOK_URL and DELIBIRD_WEBHOOK_SECRET"
    );

    let keyless =
        config(&[("DELIBIRD_WEBHOOK_URL", "https://chat.googleapis.com/v1/spaces/X/messages")], Webhook::Required)
            .unwrap_err();
    assert!(
        matches!(&keyless.0[0].kind, ConfigProblem::Webhook(WebhookUrlError::MissingParameters { missing, .. })
            if missing == &["key", "token"]),
        "{keyless}"
    );
    assert_eq!(
        keyless.to_string(),
        "invalid configuration: DELIBIRD_WEBHOOK_URL: the webhook URL has no key and token: a Google Chat webhook \
         URL looks like https://chat.googleapis.com/v1/spaces/SPACE/messages?key=KEY&token=TOKEN"
    );

    let nameless = config(&[("DELIBIRD_WEBHOOK_SECRET", "ssm:nope")], Webhook::Required).unwrap_err();
    assert_eq!(nameless.0[0].kind, ConfigProblem::NotASecretSource { source: Some(KeptError::SsmName) });
    let cause = std::error::Error::source(&nameless.0[0].kind).map(ToString::to_string);
    assert_eq!(cause.as_deref(), Some("ssm: takes a parameter name: ssm:/parameter/name"));
    let env = config(&[("DELIBIRD_WEBHOOK_SECRET", "env:HOOK")], Webhook::Required).unwrap_err();
    assert_eq!(env.0[0].kind, ConfigProblem::NotASecretSource { source: None });
    assert_eq!(
        env.to_string(),
        "invalid configuration: DELIBIRD_WEBHOOK_SECRET: expected ssm:/parameter/name or a Secrets Manager secret ARN"
    );

    let none = config(&[], Webhook::Required).unwrap_err();
    assert_eq!(none.0[0].kind, ConfigProblem::NoWebhook);
    assert_eq!(
        none.to_string(),
        "invalid configuration: DELIBIRD_WEBHOOK_URL: required (or DELIBIRD_WEBHOOK_SECRET, or DELIBIRD_RULES)"
    );
}

#[test]
fn the_rules_sources_problems_are_typed_one_per_rules_error() {
    let missing = config(&[("DELIBIRD_RULES", "/no/such/rules.toml")], Webhook::Required).unwrap_err();
    let ConfigProblem::Unreadable { path, source } = &missing.0[0].kind else { panic!("{missing}") };
    assert_eq!((path.as_str(), source.0.kind()), ("/no/such/rules.toml", std::io::ErrorKind::NotFound));
    assert!(
        missing.to_string().starts_with("invalid configuration: DELIBIRD_RULES: cannot read /no/such/rules.toml: ")
    );

    let not_a_source = config(&[("DELIBIRD_RULES", "ssm:rules")], Webhook::Required).unwrap_err();
    assert_eq!(not_a_source.0[0].kind, ConfigProblem::NotARulesSource);

    let path =
        rules_file("typed", "drop_unmatched = true\n[[rule]]\nname = \"a\"\nwhere = \"region =\"\nwebhooks = []\n");
    let bad = config(&[("DELIBIRD_RULES", &path)], Webhook::Required).unwrap_err();
    let ConfigProblem::Rules { file, source } = &bad.0[0].kind else { panic!("{bad}") };
    assert_eq!((file.as_str(), source.rule.as_deref(), source.line), (path.as_str(), Some("a"), Some(4)));
    assert_eq!(bad.0[0].to_string(), format!("DELIBIRD_RULES: {path}: {source}"));
    assert!(std::error::Error::source(&bad.0[0].kind).is_some(), "the rules error is the source");
}

#[test]
fn reads_one_lookup_role_per_organization_in_every_partition() {
    let roles = "arn:aws:iam::111122223333:role/delibird-accounts, arn:aws:iam::444455556666:role/org/lookup,\
                 arn:aws-us-gov:iam::123456789012:role/lookup,arn:aws-cn:iam::210987654321:role/lookup,\
                 arn:aws-iso:iam::999988887777:role/lookup";
    let loaded = config(
        &[("DELIBIRD_ACCOUNT_LOOKUP", "organizations"), ("DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN", roles)],
        Webhook::Optional,
    )
    .unwrap();
    assert_eq!(
        loaded.organizations.unwrap().role_arns,
        [
            "arn:aws:iam::111122223333:role/delibird-accounts",
            "arn:aws:iam::444455556666:role/org/lookup",
            "arn:aws-us-gov:iam::123456789012:role/lookup",
            "arn:aws-cn:iam::210987654321:role/lookup",
            "arn:aws-iso:iam::999988887777:role/lookup",
        ]
    );
    let none = config(&[("DELIBIRD_ACCOUNT_LOOKUP", "organizations")], Webhook::Optional).unwrap();
    assert!(none.organizations.unwrap().role_arns.is_empty(), "the function's own credentials");
}

#[test]
fn each_lookup_role_that_is_no_role_arn_or_repeats_one_is_a_problem_of_its_own() {
    let roles = "arn:aws:iam::111122223333:role/a,arn:aws:iam::111122223333:user/b,\
                 arn:azure:iam::111122223333:role/c,arn:aws:iam::1111:role/d,arn:aws:iam::111122223333:role/a";
    let errors = config(&[("DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN", roles)], Webhook::Optional).unwrap_err();
    let kinds: Vec<&ConfigProblem> = errors.0.iter().map(|e| &e.kind).collect();
    assert_eq!(
        kinds,
        [
            &ConfigProblem::NotARoleArn { item: 2, found: "arn:aws:iam::1111222".into() },
            &ConfigProblem::NotARoleArn { item: 3, found: "arn:azure:iam::11112".into() },
            &ConfigProblem::NotARoleArn { item: 4, found: "arn:aws:iam::1111:ro".into() },
            &ConfigProblem::RepeatedRole { item: 5, first: 1 },
        ]
    );
    assert_eq!(
        errors.0[0].to_string(),
        "DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN: expected IAM role ARNs, one per organization, comma-separated \
         (arn:aws:iam::ACCOUNT:role/NAME; arn:aws-us-gov:… and arn:aws-cn:… in GovCloud and China): item 2 is \
         \"arn:aws:iam::1111222\""
    );
    assert_eq!(
        errors.0[3].to_string(),
        "DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN: item 5 repeats item 1: give each organization's role once"
    );
}
