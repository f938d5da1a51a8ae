//! DELIBIRD_WEBHOOK_SECRET against moto's SSM and Secrets Manager.

use delibird::chat::GoogleChat;
use delibird::kept::{Kept, WebhookUrl};
use delibird::secret::SecretError;
use delibird::spaces::{ResolveError, Sources, resolve};

use crate::support::moto::Moto;

const URL: &str = "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=KEY&token=SECRET-TOKEN-42";

/// The URL kept in `kept`, read with `sdk` (and no environment).
async fn resolve_with(kept: &Kept, sdk: &aws_config::SdkConfig) -> Result<WebhookUrl, ResolveError> {
    let no_env = |_: &str| None;
    resolve(kept, &GoogleChat, Sources { env: &no_env, sdk: Some(sdk), allow_loopback: false }).await
}

#[tokio::test]
async fn reads_the_webhook_from_an_ssm_secure_string() {
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    aws_sdk_ssm::Client::new(&sdk)
        .put_parameter()
        .name("/delibird/webhook")
        .value(URL)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();

    let url = resolve_with(&Kept::Ssm("/delibird/webhook".into()), &sdk).await.unwrap();

    assert_eq!(url.redacted(), "https://chat.googleapis.com/v1/spaces/AAAA/messages?<redacted>");
}

#[tokio::test]
async fn reads_the_webhook_from_a_secrets_manager_json_secret() {
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    let created = aws_sdk_secretsmanager::Client::new(&sdk)
        .create_secret()
        .name("delibird-webhook")
        .secret_string(format!(r#"{{"url": "{URL}"}}"#))
        .send()
        .await
        .unwrap();

    let arn = created.arn.unwrap();
    let url = resolve_with(&Kept::SecretsManager(arn), &sdk).await.unwrap();

    assert!(url.redacted().starts_with("https://chat.googleapis.com/v1/spaces/AAAA/messages"));
}

#[tokio::test]
async fn a_missing_parameter_is_named_and_a_bad_secret_is_not_quoted() {
    let moto = Moto::start();
    let sdk = moto.sdk_config();
    let missing = resolve_with(&Kept::Ssm("/nope".into()), &sdk).await.unwrap_err();
    assert!(matches!(missing, ResolveError::Secret(SecretError::Ssm { .. })), "{missing:?}");
    assert!(missing.to_string().contains("/nope"));

    let leaked = "https://evil.example/hook?token=SECRET-TOKEN-42";
    aws_sdk_ssm::Client::new(&sdk)
        .put_parameter()
        .name("/delibird/bad")
        .value(leaked)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let bad = resolve_with(&Kept::Ssm("/delibird/bad".into()), &sdk).await.unwrap_err();
    let shown = format!("{bad} {bad:?}");
    assert!(matches!(bad, ResolveError::Secret(SecretError::BadUrl { .. })), "{bad:?}");
    assert!(!shown.contains("SECRET-TOKEN-42"), "{shown}");
}
