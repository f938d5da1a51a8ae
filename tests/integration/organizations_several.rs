//! Account names from several organizations, one lookup role each, against moto: moto keeps one
//! organization per account and maps an assumed role's credentials into that role's account, so
//! two roles in two accounts are two organizations. Calls are counted by a proxy in front of it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use delibird::accounts::{AccountDirectory, AccountInfo, EveryOrganization, OrgSettings};
use delibird::config::{Config, Webhook};
use delibird::deps::Deps;
use delibird::envelope::sns_event;
use delibird::handler::{Response, handle};
use delibird::health::AccountId;
use delibird_tools::chat_emulator::ChatEmulator;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::json;

use crate::support::aws_proxy::AwsProxy;
use crate::support::fixture;
use crate::support::moto::Moto;

/// The management account moto gives the caller's own credentials, and a second one.
const FIRST: &str = "123456789012";
const SECOND: &str = "222233334444";
/// An account whose lookup role may not be assumed.
const REFUSED: &str = "333344445555";

fn role(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/delibird-account-lookup")
}

/// moto with two organizations: `FIRST`'s accounts `first-0`… and `SECOND`'s `second-0`…, each
/// with `accounts` members; their ids, by organization.
async fn two_organizations(accounts: usize) -> (Moto, Vec<String>, Vec<String>) {
    let moto = Moto::start();
    let first = create_organization(&moto.sdk_config(), "first", accounts).await;
    let second = create_organization(&assumed(&moto, SECOND).await, "second", accounts).await;
    (moto, first, second)
}

/// moto's SDK configuration with the credentials of `account`'s lookup role.
async fn assumed(moto: &Moto, account: &str) -> aws_config::SdkConfig {
    let sdk = moto.sdk_config();
    let provider =
        aws_config::sts::AssumeRoleProvider::builder(role(account)).session_name("setup").configure(&sdk).build().await;
    sdk.to_builder()
        .credentials_provider(aws_sdk_organizations::config::SharedCredentialsProvider::new(provider))
        .build()
}

async fn create_organization(sdk: &aws_config::SdkConfig, prefix: &str, accounts: usize) -> Vec<String> {
    let client = aws_sdk_organizations::Client::new(sdk);
    client
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for n in 0..accounts {
        ids.push(create_account(&client, &format!("{prefix}-{n}")).await);
    }
    ids
}

async fn create_account(client: &aws_sdk_organizations::Client, name: &str) -> String {
    let created = client.create_account().account_name(name).email(format!("{name}@example.com")).send().await.unwrap();
    created.create_account_status.unwrap().account_id.unwrap()
}

fn through(proxy: &AwsProxy, moto: &Moto) -> aws_config::SdkConfig {
    moto.sdk_config().to_builder().endpoint_url(&proxy.endpoint).build()
}

fn names_only() -> OrgSettings {
    OrgSettings { tag_keys: vec![], ou_path: false, ..OrgSettings::default() }
}

fn ids(texts: &[&String]) -> BTreeSet<AccountId> {
    texts.iter().map(|text| AccountId::parse(text).unwrap()).collect()
}

fn names(found: &BTreeMap<AccountId, AccountInfo>) -> Vec<&str> {
    found.values().map(|info| info.name.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_of_two_organizations_are_named_each_through_its_own_role() {
    let (moto, first, second) = two_organizations(3).await;
    let proxy = AwsProxy::start(&moto.endpoint).await;
    let directory = EveryOrganization::new(&through(&proxy, &moto), &[role(FIRST), role(SECOND)], &names_only()).await;

    let found = directory.lookup(&ids(&[&first[1], &second[2]])).await;

    let mut named = names(&found);
    named.sort_unstable();
    assert_eq!(named, ["first-1", "second-2"]);
    assert_eq!(directory.organizations().len(), 2);
    assert_eq!(proxy.count("AssumeRole"), 2, "one role per organization: {:?}", proxy.calls());
    assert_eq!(proxy.count("ListAccounts"), 2, "each organization's list, once: {:?}", proxy.calls());
    assert_eq!(proxy.count("DescribeAccount"), 0, "no organization is asked about the other's accounts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_cannot_be_assumed_does_not_stop_the_other_organizations() {
    let (moto, first, second) = two_organizations(2).await;
    let proxy = AwsProxy::start(&moto.endpoint).await;
    proxy.refuse(REFUSED);
    let roles = [role(REFUSED), role(FIRST), role(SECOND)];
    let directory = EveryOrganization::new(&through(&proxy, &moto), &roles, &names_only()).await;
    let unknown = "999988887777".to_owned();

    let found = directory.lookup(&ids(&[&first[0], &second[1], &unknown])).await;
    let again = directory.lookup(&ids(&[&first[1], &unknown])).await;

    let mut named = names(&found);
    named.sort_unstable();
    assert_eq!(named, ["first-0", "second-1"], "the other organizations still name their accounts");
    assert_eq!(names(&again), ["first-1"]);
    assert_eq!(
        proxy.count("DescribeAccount"),
        0,
        "an id no list holds most likely belongs to the organization that failed: nobody else is asked"
    );
    assert_eq!(proxy.count("ListAccounts"), 2, "the others' lists, once each: {:?}", proxy.calls());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_new_since_the_lists_were_read_is_described_in_every_organization() {
    let (moto, first, _) = two_organizations(1).await;
    let proxy = AwsProxy::start(&moto.endpoint).await;
    let directory = EveryOrganization::new(&through(&proxy, &moto), &[role(FIRST), role(SECOND)], &names_only()).await;
    assert_eq!(names(&directory.lookup(&ids(&[&first[0]])).await), ["first-0"]);

    let joined = create_account(&aws_sdk_organizations::Client::new(&assumed(&moto, SECOND).await), "second-new").await;
    let found = directory.lookup(&ids(&[&joined])).await;

    assert_eq!(names(&found), ["second-new"]);
    assert_eq!(proxy.count("ListAccounts"), 2, "the lists are not read again within their TTL");
    assert_eq!(proxy.count("DescribeAccount"), 2, "asked of each organization once: {:?}", proxy.calls());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lambda_names_accounts_of_every_organization_its_configuration_lists() {
    let (moto, first, second) = two_organizations(2).await;
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let vars: BTreeMap<&str, String> = [
        ("DELIBIRD_WEBHOOK_URL", emulator.webhook_url("S")),
        ("DELIBIRD_ALLOW_LOOPBACK_WEBHOOK", "1".into()),
        ("DELIBIRD_ACCOUNT_LOOKUP", "organizations".into()),
        ("DELIBIRD_ACCOUNT_OU", "0".into()),
        ("DELIBIRD_ACCOUNT_LOOKUP_ROLE_ARN", format!("{}, {}", role(FIRST), role(SECOND))),
    ]
    .into();
    let config = Config::from_vars(|name| vars.get(name).cloned(), Webhook::Required).unwrap();
    let deps = Deps::start_with(config, &|_| None, Some(&moto.sdk_config())).await.unwrap();
    let mut event = fixture("health-events/seed-project-health104.json");
    event["account"] = json!(first[1]);
    event["detail"]["affectedAccount"] = json!(first[1]);
    event["detail"]["affectedEntities"] = json!([{"entityValue": second[0], "status": "IMPAIRED"}]);

    let response =
        handle(LambdaEvent::new(sns_event([&event], "arn:aws:sns:us-east-1:1:t"), Context::default()), &deps)
            .await
            .unwrap();

    assert!(matches!(response, Response::Summary(summary) if summary.posted == 1));
    let body = emulator.received()[0].body.to_string();
    assert!(body.contains(&format!("first-1 ({})", first[1])), "{body}");
    assert!(body.contains(&format!("second-0 ({})", second[0])), "the other organization's account: {body}");
}
