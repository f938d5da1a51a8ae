//! Account names from AWS Organizations, against moto's Organizations (an organization with
//! nested OUs, tagged accounts, and more than one page of accounts), through a counting proxy.

use std::collections::BTreeSet;
use std::time::Duration;

use delibird::accounts::{AccountDirectory, Layered, OrgSettings, Organizations, StaticAliases, enrich};
use delibird::envelope::sns_event;
use delibird::handler::{Response, handle};
use delibird::health::{AccountId, validate};
use delibird_tools::chat_emulator::ChatEmulator;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::json;

use crate::support::aws_proxy::AwsProxy;
use crate::support::fixture;
use crate::support::moto::Moto;
use crate::support::stack;

/// The organization under test: 60 accounts (`account-00` …), the first ten in
/// Production / Payments and tagged `Owner=team-NN`, `Team=payments`.
struct Org {
    moto: Moto,
    accounts: Vec<String>,
}

async fn organization() -> Org {
    let moto = Moto::start();
    let client = aws_sdk_organizations::Client::new(&moto.sdk_config());
    client
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let root = client.list_roots().send().await.unwrap().roots.unwrap()[0].id.clone().unwrap();
    let production = client.create_organizational_unit().parent_id(&root).name("Production").send().await.unwrap();
    let production = production.organizational_unit.unwrap().id.unwrap();
    let payments = client.create_organizational_unit().parent_id(&production).name("Payments").send().await.unwrap();
    let payments = payments.organizational_unit.unwrap().id.unwrap();
    let mut accounts = Vec::new();
    for n in 0..60 {
        let created = client
            .create_account()
            .account_name(format!("account-{n:02}"))
            .email(format!("account-{n:02}@example.com"))
            .send()
            .await
            .unwrap();
        let id = created.create_account_status.unwrap().account_id.unwrap();
        if n < 10 {
            client
                .move_account()
                .account_id(&id)
                .source_parent_id(&root)
                .destination_parent_id(&payments)
                .send()
                .await
                .unwrap();
            let tags =
                [("Owner", format!("team-{n:02}")), ("Team", "payments".to_owned()), ("CostCenter", "42".to_owned())];
            let tags = tags
                .iter()
                .map(|(k, v)| aws_sdk_organizations::types::Tag::builder().key(*k).value(v).build().unwrap());
            client.tag_resource().resource_id(&id).set_tags(Some(tags.collect())).send().await.unwrap();
        }
        accounts.push(id);
    }
    Org { moto, accounts }
}

fn sdk_through(proxy: &AwsProxy, moto: &Moto) -> aws_config::SdkConfig {
    moto.sdk_config().to_builder().endpoint_url(&proxy.endpoint).build()
}

fn id(text: &str) -> AccountId {
    AccountId::parse(text).unwrap()
}

fn names_only() -> OrgSettings {
    OrgSettings { tag_keys: vec![], ou_path: false, ..OrgSettings::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_ou_paths_and_chosen_tags_come_from_organizations() {
    let org = organization().await;
    let proxy = AwsProxy::start(&org.moto.endpoint).await;
    let settings = OrgSettings { tag_keys: vec!["Owner".into(), "Team".into()], ..OrgSettings::default() };
    let directory = Organizations::new(&sdk_through(&proxy, &org.moto), None, settings).await;

    let ids: BTreeSet<AccountId> = [id(&org.accounts[3]), id(&org.accounts[42])].into();
    let found = directory.lookup(&ids).await;

    let tagged = &found[&id(&org.accounts[3])];
    assert_eq!(tagged.name, "account-03");
    assert_eq!(tagged.ou_path, ["Production", "Payments"]);
    assert_eq!(tagged.tags, [("Owner".to_owned(), "team-03".to_owned()), ("Team".to_owned(), "payments".to_owned())]);
    assert_eq!(tagged.context().as_deref(), Some("OU Production / Payments · Owner: team-03 · Team: payments"));
    let plain = &found[&id(&org.accounts[42])];
    assert_eq!((plain.name.as_str(), plain.ou_path.len(), plain.tags.len()), ("account-42", 0, 0));
    assert!(proxy.count("ListAccounts") > 1, "more than one page of accounts: {:?}", proxy.calls());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handler_puts_names_on_the_affected_account_and_on_entity_account_ids() {
    let org = organization().await;
    let proxy = AwsProxy::start(&org.moto.endpoint).await;
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let settings = OrgSettings { tag_keys: vec!["Owner".into()], ..OrgSettings::default() };
    let organizations = Organizations::new(&sdk_through(&proxy, &org.moto), None, settings).await;
    let deps = stack::to(&emulator.webhook_url("S"))
        .organizations(organizations)
        .connect_timeout(Duration::from_secs(1))
        .build();
    let mut event = fixture("health-events/seed-project-health104.json");
    event["account"] = json!(org.accounts[5]);
    event["detail"]["affectedAccount"] = json!(org.accounts[5]);
    event["detail"]["affectedEntities"] = json!([{"entityValue": org.accounts[6], "status": "IMPAIRED"}]);

    let response =
        handle(LambdaEvent::new(sns_event([&event], "arn:aws:sns:us-east-1:1:t"), Context::default()), &deps)
            .await
            .unwrap();

    assert!(matches!(response, Response::Summary(summary) if summary.posted == 1));
    let body = emulator.received()[0].body.to_string();
    assert!(body.contains(&format!("account-05 ({})", org.accounts[5])), "{body}");
    assert!(body.contains(&format!("account-06 ({})", org.accounts[6])), "{body}");
    assert!(body.contains("OU Production / Payments · Owner: team-05"), "the account's OU path and chosen tag: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_300_events_for_50_accounts_costs_one_sweep_of_list_accounts() {
    let org = organization().await;
    let proxy = AwsProxy::start(&org.moto.endpoint).await;
    let directory = Organizations::new(&sdk_through(&proxy, &org.moto), None, names_only()).await;

    let lookups = (0..300).map(|n| {
        let ids: BTreeSet<AccountId> = [id(&org.accounts[n % 50])].into();
        let directory = &directory;
        async move { directory.lookup(&ids).await }
    });
    let answers = futures::future::join_all(lookups).await;

    assert!(answers.iter().all(|answer| answer.len() == 1), "every id named");
    let pages = proxy.count("ListAccounts");
    println!("organizations calls for 300 events / 50 accounts, names only: {:?}", proxy.calls());
    assert!(pages >= 2, "the organization has more than one page of accounts");
    assert!(proxy.total() <= pages + 3, "no more than the pages of ListAccounts plus a handful: {:?}", proxy.calls());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_tags_and_ou_paths_each_account_costs_its_own_calls_once_per_ttl() {
    let org = organization().await;
    let proxy = AwsProxy::start(&org.moto.endpoint).await;
    let settings = OrgSettings { tag_keys: vec!["Owner".into()], ..OrgSettings::default() };
    let directory = Organizations::new(&sdk_through(&proxy, &org.moto), None, settings).await;

    for round in 0..3 {
        let lookups = (0..100).map(|n| {
            let ids: BTreeSet<AccountId> = [id(&org.accounts[(n + round) % 50])].into();
            let directory = &directory;
            async move { directory.lookup(&ids).await }
        });
        futures::future::join_all(lookups).await;
    }

    println!("organizations calls for 300 events / 50 accounts, OU path and tags: {:?}", proxy.calls());
    assert_eq!(proxy.count("ListTagsForResource"), 50, "one per account");
    // One ListParents per account, plus one per OU (2) to walk up; one DescribeOrganizationalUnit per OU.
    assert_eq!(proxy.count("ListParents"), 52);
    assert_eq!(proxy.count("DescribeOrganizationalUnit"), 2);
    assert_eq!(proxy.count("DescribeAccount"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_organizations_api_leaves_ids_as_ids_and_the_card_still_goes_out() {
    let emulator = ChatEmulator::with_min_interval(Duration::ZERO).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let moto_less = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .credentials_provider(aws_sdk_organizations::config::SharedCredentialsProvider::new(
            aws_sdk_organizations::config::Credentials::new("testing", "testing", None, None, "test"),
        ))
        .build();
    let organizations = Organizations::new(&moto_less, None, names_only()).await;
    let deps = stack::to(&emulator.webhook_url("S"))
        .organizations(organizations)
        .connect_timeout(Duration::from_secs(1))
        .build();
    // Account-specific: a public event's subtitle says "Public event" rather than the account.
    let event = fixture("health-events/seed-project-health102.json");

    let response =
        handle(LambdaEvent::new(sns_event([&event], "arn:aws:sns:us-east-1:1:t"), Context::default()), &deps).await;

    assert!(matches!(response, Ok(Response::Summary(summary)) if summary.posted == 1), "{response:?}");
    let subtitle = emulator.received()[0].body["cardsV2"][0]["card"]["header"]["subtitle"].to_string();
    assert!(subtitle.contains("111122223333") && !subtitle.contains('('), "the id stays an id: {subtitle}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_organizations_api_is_given_up_within_the_budget() {
    let org = organization().await;
    let proxy = AwsProxy::start(&org.moto.endpoint).await;
    proxy.set_delay(Duration::from_secs(20));
    let settings = OrgSettings { budget: Duration::from_millis(300), ..names_only() };
    let directory = Organizations::new(&sdk_through(&proxy, &org.moto), None, settings).await;
    let ids: BTreeSet<AccountId> = [id(&org.accounts[1])].into();

    let first = tokio::time::timeout(Duration::from_secs(10), directory.lookup(&ids)).await;
    let again = tokio::time::timeout(Duration::from_secs(10), directory.lookup(&ids)).await;

    assert_eq!(first.expect("the lookup keeps to its budget").len(), 0, "ids stay ids");
    assert_eq!(again.expect("a failing API is not asked again at once").len(), 0);
    assert_eq!(proxy.count("ListAccounts"), 1, "the second lookup did not call again: {:?}", proxy.calls());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_names_win_over_organizations_and_a_role_can_be_assumed() {
    let org = organization().await;
    let proxy = AwsProxy::start(&org.moto.endpoint).await;
    let role = "arn:aws:iam::123456789012:role/delibird-account-lookup";
    let organizations = Organizations::new(&sdk_through(&proxy, &org.moto), Some(role), names_only()).await;
    let aliases: StaticAliases = [(id(&org.accounts[0]), "payments-prod".to_owned())].into_iter().collect();
    let directory = Layered { first: &aliases, then: Some(&organizations) };
    let event =
        validate(&json!({"account": org.accounts[0], "detail": {"eventArn": "arn:aws:health:us-east-1::event/X",
        "eventTypeCode": "AWS_EC2_X", "affectedAccount": org.accounts[0],
        "affectedEntities": [{"entityValue": org.accounts[7]}]}}))
        .unwrap();

    let enriched = enrich(event, &directory).await;

    assert_eq!(enriched.accounts[&id(&org.accounts[0])].name, "payments-prod");
    assert_eq!(enriched.accounts[&id(&org.accounts[7])].name, "account-07");
    assert_eq!(proxy.count("AssumeRole"), 1, "{:?}", proxy.calls());
}
