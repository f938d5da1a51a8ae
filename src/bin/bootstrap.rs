//! The Lambda: reads configuration once, fetches the webhook URL if it is kept in SSM or Secrets
//! Manager, builds one HTTP client, and serves invocations with `delibird::handler::handle`.

use delibird::config::{Config, Webhook};
use delibird::handler::{Deps, handle};
use delibird::{logging, secret, webhook};
use lambda_runtime::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    logging::init_json();
    let config = Config::from_env(Webhook::Required).inspect_err(|error| tracing::error!(%error, "cannot start"))?;
    let source = config.webhook.as_ref().ok_or("DELIBIRD_WEBHOOK_URL: required")?;
    let webhook = secret::resolve(source, config.allow_loopback)
        .await
        .inspect_err(|error| tracing::error!(%error, "cannot start"))?;
    let client = webhook::http_client(config.retry.request_timeout)?;
    let deps = Deps { client, webhook, aliases: config.aliases, card: config.card, retry: config.retry };
    tracing::info!(
        webhook = %deps.webhook,
        account_aliases = deps.aliases.len(),
        deduplication = "none: every delivery of an event is posted (no dedup store configured)",
        "delibird started"
    );
    lambda_runtime::run(service_fn(|event| handle(event, &deps))).await
}
