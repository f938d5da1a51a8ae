//! Fetching the webhook URL from where it is kept: an SSM SecureString parameter or a Secrets
//! Manager secret. Called once at start. The AWS SDK's standard settings apply (credentials,
//! Region, `AWS_ENDPOINT_URL`). Errors name the parameter or secret, never its value.

use crate::config::WebhookSource;
use crate::webhook::{WebhookUrl, WebhookUrlError};

/// Why the webhook URL could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// SSM's `GetParameter` failed.
    #[error("cannot read SSM parameter {name}")]
    Ssm {
        /// The parameter's name.
        name: String,
        /// The SDK's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Secrets Manager's `GetSecretValue` failed.
    #[error("cannot read secret {arn}")]
    SecretsManager {
        /// The secret's ARN.
        arn: String,
        /// The SDK's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The parameter or secret holds no text.
    #[error("{0} holds no text")]
    Empty(String),
    /// The text is not an acceptable webhook URL.
    #[error("{origin}: {source}")]
    BadUrl {
        /// Where the text came from.
        origin: String,
        /// What is wrong with it.
        #[source]
        source: WebhookUrlError,
    },
}

/// The webhook URL, fetched if it is kept in SSM or Secrets Manager. The AWS configuration is
/// loaded (credentials, Region, endpoint from the environment) only when it is needed.
pub async fn resolve(source: &WebhookSource, allow_loopback: bool) -> Result<WebhookUrl, SecretError> {
    match source {
        WebhookSource::Url(url) => Ok(url.clone()),
        kept => {
            let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            resolve_with(kept, allow_loopback, &sdk).await
        }
    }
}

/// [`resolve`] with a given AWS configuration (tests point it at an emulator).
pub async fn resolve_with(
    source: &WebhookSource,
    allow_loopback: bool,
    sdk: &aws_config::SdkConfig,
) -> Result<WebhookUrl, SecretError> {
    let (origin, text) = match source {
        WebhookSource::Url(url) => return Ok(url.clone()),
        WebhookSource::Ssm(name) => (format!("SSM parameter {name}"), ssm_parameter(name, sdk).await?),
        WebhookSource::SecretsManager(arn) => (format!("secret {arn}"), secret_string(arn, sdk).await?),
    };
    let text = text.ok_or_else(|| SecretError::Empty(origin.clone()))?;
    WebhookUrl::parse(&url_in(&text), allow_loopback).map_err(|source| SecretError::BadUrl { origin, source })
}

/// The text of an SSM parameter (decrypted): for a rules file kept in SSM (`DELIBIRD_RULES=ssm:/…`).
pub async fn ssm_text(name: &str, sdk: &aws_config::SdkConfig) -> Result<String, SecretError> {
    ssm_parameter(name, sdk).await?.ok_or_else(|| SecretError::Empty(format!("SSM parameter {name}")))
}

async fn ssm_parameter(name: &str, sdk: &aws_config::SdkConfig) -> Result<Option<String>, SecretError> {
    let client = aws_sdk_ssm::Client::new(sdk);
    let answer =
        client.get_parameter().name(name).with_decryption(true).send().await.map_err(|error| SecretError::Ssm {
            name: name.to_owned(),
            source: Box::new(error.into_service_error()),
        })?;
    Ok(answer.parameter.and_then(|parameter| parameter.value))
}

async fn secret_string(arn: &str, sdk: &aws_config::SdkConfig) -> Result<Option<String>, SecretError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let answer = client.get_secret_value().secret_id(arn).send().await.map_err(|error| {
        SecretError::SecretsManager { arn: arn.to_owned(), source: Box::new(error.into_service_error()) }
    })?;
    Ok(answer.secret_string)
}

/// The URL in a secret's text: the text itself, or the `url` (or `webhookUrl`) member of a JSON
/// object, the form CloudFormation-generated secrets often take.
fn url_in(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|value| {
            ["url", "webhookUrl", "webhook_url"].iter().find_map(|key| value.get(key)?.as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| text.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_plain_and_json_secrets() {
        assert_eq!(url_in(" https://chat.googleapis.com/x \n"), "https://chat.googleapis.com/x");
        assert_eq!(url_in(r#"{"url": "https://chat.googleapis.com/y"}"#), "https://chat.googleapis.com/y");
    }
}
