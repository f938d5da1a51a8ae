//! The Lambda: reads configuration once, fetches the webhook URL if it is kept in SSM or Secrets
//! Manager (and, with routing rules, every webhook they name), builds one HTTP client, and serves
//! invocations with `delibird::handler::handle`.
//! Bad configuration stops it before the first invocation, with every problem in one log line.

use delibird::config::{Config, Webhook};
use delibird::dedup::Store;
use delibird::deps::Deps;
use delibird::handler::handle_raw;
use delibird::logging;
use lambda_runtime::{Error, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    logging::init_json();
    let deps = match start().await {
        Ok(deps) => deps,
        Err(error) => {
            tracing::error!(error = logging::chain(error.as_ref()), "cannot start");
            std::process::exit(1);
        }
    };
    tracing::info!(
        webhook = deps.destinations(),
        account_aliases = deps.aliases.len(),
        dedup_store = match &deps.dedup {
            Store::Dynamo(store) => store.table().to_owned(),
            Store::Memory(_) => "memory: DELIBIRD_DEDUP_TABLE is not set, so duplicates are caught only within this container, not across invocations".to_owned(),
        },
        "delibird started"
    );
    lambda_runtime::run(service_fn(|event| handle_raw(event, &deps))).await
}

async fn start() -> Result<Deps, Error> {
    let config = Config::from_env(Webhook::Required)?;
    Ok(Deps::start(config, &|name| std::env::var(name).ok()).await?)
}
