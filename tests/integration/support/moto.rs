//! moto's AWS API emulator as a child process on 127.0.0.1, started per test and killed on drop.
//! `scripts/test` installs it and names it in `DELIBIRD_MOTO_SERVER`; without that, the
//! virtual environment scripts/test creates is used. It is never assumed to be running.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

fn executable() -> PathBuf {
    std::env::var_os("DELIBIRD_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-tools/venv/bin/moto_server"))
}

impl Moto {
    /// Starts moto on a free port and waits until it answers.
    pub fn start() -> Self {
        let path = executable();
        assert!(path.exists(), "moto_server not found at {}: run scripts/test, which installs it", path.display());
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(&path)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let moto = Self { child, endpoint: format!("http://127.0.0.1:{port}") };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "moto did not start within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    /// An AWS SDK configuration pointed at this emulator with dummy credentials.
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .time_source(aws_smithy_async::time::SystemTimeSource::new())
            .sleep_impl(aws_smithy_async::rt::sleep::default_async_sleep().expect("tokio sleep"))
            .credentials_provider(aws_sdk_ssm::config::SharedCredentialsProvider::new(
                aws_sdk_ssm::config::Credentials::new("testing", "testing", None, None, "moto"),
            ))
            .build()
    }

    /// Environment variables that point a child process's AWS SDK at this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Creates the dedup table as the collector template does: partition key `id` (S), and the
    /// `by-kind` index (`kind`, `id`; every attribute) the tick lists kept events by.
    pub async fn create_dedup_table(&self, name: &str) {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
            ProjectionType, ScalarAttributeType,
        };
        let attribute = |name: &str| {
            AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build().unwrap()
        };
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder().attribute_name(name).key_type(kind).build().unwrap()
        };
        let by_kind = GlobalSecondaryIndex::builder()
            .index_name("by-kind")
            .key_schema(key("kind", KeyType::Hash))
            .key_schema(key("id", KeyType::Range))
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .unwrap();
        aws_sdk_dynamodb::Client::new(&self.sdk_config())
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute("id"))
            .attribute_definitions(attribute("kind"))
            .key_schema(key("id", KeyType::Hash))
            .global_secondary_indexes(by_kind)
            .send()
            .await
            .expect("CreateTable");
    }

    /// Creates a queue and its dead-letter queue (after `max_receives` receives), returning both URLs.
    pub async fn create_queue_with_dlq(&self, name: &str, max_receives: u32, visibility_s: u32) -> (String, String) {
        use aws_sdk_sqs::types::QueueAttributeName;
        let sqs = aws_sdk_sqs::Client::new(&self.sdk_config());
        let dlq = sqs.create_queue().queue_name(format!("{name}-dlq")).send().await.unwrap().queue_url.unwrap();
        let dlq_arn = sqs
            .get_queue_attributes()
            .queue_url(&dlq)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap()[&QueueAttributeName::QueueArn]
            .clone();
        let policy = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{max_receives}"}}"#);
        let queue = sqs
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::RedrivePolicy, policy)
            .attributes(QueueAttributeName::VisibilityTimeout, visibility_s.to_string())
            .send()
            .await
            .unwrap()
            .queue_url
            .unwrap();
        (queue, dlq)
    }

    /// Messages in a queue, visible or in flight.
    pub async fn queue_depth(&self, url: &str) -> usize {
        use aws_sdk_sqs::types::QueueAttributeName;
        let attributes = aws_sdk_sqs::Client::new(&self.sdk_config())
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap();
        [QueueAttributeName::ApproximateNumberOfMessages, QueueAttributeName::ApproximateNumberOfMessagesNotVisible]
            .iter()
            .map(|name| attributes[name].parse::<usize>().unwrap())
            .sum()
    }
}
