//! Reading what delibird keeps in AWS: SSM parameters (decrypted; a SecureString webhook URL, or
//! the rules file) and Secrets Manager secrets. Called at start. The AWS SDK's standard settings
//! apply (credentials, Region, `AWS_ENDPOINT_URL`). Errors name the parameter or secret, never its
//! value.

use crate::kept::WebhookUrlError;

/// Why a parameter or secret could not be had.
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

/// The text of an SSM parameter, decrypted.
pub async fn ssm_text(name: &str, sdk: &aws_config::SdkConfig) -> Result<String, SecretError> {
    let client = aws_sdk_ssm::Client::new(sdk);
    let answer =
        client.get_parameter().name(name).with_decryption(true).send().await.map_err(|error| SecretError::Ssm {
            name: name.to_owned(),
            source: Box::new(error.into_service_error()),
        })?;
    answer
        .parameter
        .and_then(|parameter| parameter.value)
        .ok_or_else(|| SecretError::Empty(format!("SSM parameter {name}")))
}

/// The text of a Secrets Manager secret.
pub async fn secret_text(arn: &str, sdk: &aws_config::SdkConfig) -> Result<String, SecretError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let answer = client.get_secret_value().secret_id(arn).send().await.map_err(|error| {
        SecretError::SecretsManager { arn: arn.to_owned(), source: Box::new(error.into_service_error()) }
    })?;
    answer.secret_string.ok_or_else(|| SecretError::Empty(format!("secret {arn}")))
}

/// The URL in a secret's text: the text itself, or the `url` (or `webhookUrl`) member of a JSON
/// object, the form CloudFormation-generated secrets often take.
pub fn url_in(text: &str) -> String {
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
