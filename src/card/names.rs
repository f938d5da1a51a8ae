//! Codes in words: `AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED` → "EC2 instance retirement scheduled",
//! `ELASTICLOADBALANCING` → "Elastic Load Balancing", `eventMetadata` keys and AWS's enum values
//! → sentence case. Pure, no I/O.

use crate::health::HealthEvent;

/// Service codes whose name is not the code in sentence case, as AWS writes them.
const SERVICE_NAMES: &[(&str, &str)] = &[
    ("ABUSE", "Abuse"),
    ("APIGATEWAY", "API Gateway"),
    ("AUTOSCALING", "Auto Scaling"),
    ("CLOUDFORMATION", "CloudFormation"),
    ("CLOUDFRONT", "CloudFront"),
    ("CLOUDHSM", "CloudHSM"),
    ("CLOUDTRAIL", "CloudTrail"),
    ("CLOUDWATCH", "CloudWatch"),
    ("CODEBUILD", "CodeBuild"),
    ("CODECOMMIT", "CodeCommit"),
    ("CODEDEPLOY", "CodeDeploy"),
    ("CODEPIPELINE", "CodePipeline"),
    ("DIRECTCONNECT", "Direct Connect"),
    ("DOCDB", "DocumentDB"),
    ("DYNAMODB", "DynamoDB"),
    ("ELASTICACHE", "ElastiCache"),
    ("ELASTICBEANSTALK", "Elastic Beanstalk"),
    ("ELASTICFILESYSTEM", "EFS"),
    ("ELASTICLOADBALANCING", "Elastic Load Balancing"),
    ("ELASTICMAPREDUCE", "EMR"),
    ("EVENTS", "EventBridge"),
    ("GUARDDUTY", "GuardDuty"),
    ("MQ", "Amazon MQ"),
    ("MULTIPLE_SERVICES", "Multiple services"),
    ("OPENSEARCH", "OpenSearch"),
    ("RISK", "Security risk"),
    ("ROUTE53", "Route 53"),
    ("SAGEMAKER", "SageMaker"),
    ("SECRETSMANAGER", "Secrets Manager"),
    ("SECURITYHUB", "Security Hub"),
    ("SSO", "IAM Identity Center"),
    ("STATES", "Step Functions"),
    ("WORKSPACES", "WorkSpaces"),
];

/// Services that are a kind of report rather than a product: "Abuse: DoS report".
const REPORT_SERVICES: &[&str] = &["ABUSE", "RISK"];

/// Words kept as written in upper case.
const ACRONYMS: &[&str] = &[
    "ACM", "AMI", "API", "ARN", "AWS", "AZ", "CPU", "DNS", "EBS", "EC2", "ECR", "ECS", "EFS", "EKS", "ELB", "EMR",
    "GPU", "HTTP", "HTTPS", "IAM", "IP", "KMS", "MFA", "MSK", "NAT", "RDS", "S3", "SES", "SMS", "SNS", "SQS", "SSH",
    "SSL", "TLS", "VPC", "VPN",
];

/// Words with their own spelling.
const SPELLINGS: &[(&str, &str)] = &[("DOS", "DoS"), ("DDOS", "DDoS"), ("IPV4", "IPv4"), ("IPV6", "IPv6")];

/// What an event is about, in words: "EC2 instance retirement scheduled", "Elastic Load Balancing
/// API issue", "Abuse: DoS report". From `service` and `eventTypeCode`; `AWS_` prefixes dropped.
pub fn event_title(event: &HealthEvent) -> String {
    let code = event.type_code.trim();
    let code = code.strip_prefix("AWS_").unwrap_or(code);
    let service = event.service.as_deref().map(str::trim).map(|s| s.strip_prefix("AWS_").unwrap_or(s));
    let Some(service) = service.filter(|s| !s.is_empty()) else {
        return capitalised(&words(code));
    };
    let rest = code.strip_prefix(service).and_then(|r| r.strip_prefix('_')).unwrap_or(code);
    let name = service_name(service);
    match words(rest) {
        rest if rest.is_empty() => name,
        rest if REPORT_SERVICES.iter().any(|s| s.eq_ignore_ascii_case(service)) => format!("{name}: {rest}"),
        rest => format!("{name} {rest}"),
    }
}

/// A service code as people name the service: `ELASTICLOADBALANCING` → "Elastic Load Balancing",
/// `EC2` → "EC2", `NEWSERVICE` → "Newservice".
pub fn service_name(code: &str) -> String {
    let code = code.trim();
    let code = code.strip_prefix("AWS_").unwrap_or(code);
    if let Some((_, name)) = SERVICE_NAMES.iter().find(|(known, _)| known.eq_ignore_ascii_case(code)) {
        return (*name).to_owned();
    }
    let short_acronym = code.len() <= 3 && code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if short_acronym { code.to_owned() } else { capitalised(&words(code)) }
}

/// `INSTANCE_RETIREMENT_SCHEDULED` → `instance retirement scheduled`, keeping acronyms and
/// spellings such as DoS.
pub fn words(code: &str) -> String {
    code.split(['_', ' ', '-'])
        .filter(|word| !word.is_empty())
        .map(|word| {
            let upper = word.to_uppercase();
            if let Some((_, spelled)) = SPELLINGS.iter().find(|(known, _)| *known == upper) {
                (*spelled).to_owned()
            } else if ACRONYMS.contains(&upper.as_str()) {
                upper
            } else {
                word.to_lowercase()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A key or enum value in sentence case: `ACTION_REQUIRED` → "Action required", `lastUpdated` →
/// "Last updated", `keystring1` → "Keystring1".
pub fn humanised(key: &str) -> String {
    let mut spaced = String::with_capacity(key.len() + 4);
    let mut previous: Option<char> = None;
    for c in key.chars() {
        if c.is_uppercase() && previous.is_some_and(char::is_lowercase) {
            spaced.push(' ');
        }
        spaced.push(c);
        previous = Some(c);
    }
    capitalised(&words(&spaced))
}

/// `true` and `false` (AWS writes them as text) as "Yes" and "No"; other values unchanged.
pub fn yes_no(value: &str) -> &str {
    match value.trim() {
        v if v.eq_ignore_ascii_case("true") => "Yes",
        v if v.eq_ignore_ascii_case("false") => "No",
        _ => value,
    }
}

/// The first letter in upper case.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_codes_become_service_names() {
        assert_eq!(service_name("ELASTICLOADBALANCING"), "Elastic Load Balancing");
        assert_eq!(service_name("MULTIPLE_SERVICES"), "Multiple services");
        assert_eq!(service_name("AWS_EC2"), "EC2");
        assert_eq!(service_name("LAMBDA"), "Lambda");
        assert_eq!(service_name("NEWSERVICE"), "Newservice");
    }

    #[test]
    fn dos_is_spelled_dos() {
        assert_eq!(words("DOS_REPORT"), "DoS report");
    }

    #[test]
    fn keys_and_enum_values_read_as_sentences() {
        assert_eq!(humanised("ACTION_REQUIRED"), "Action required");
        assert_eq!(humanised("lastUpdated"), "Last updated");
        assert_eq!(humanised("truncated"), "Truncated");
        assert_eq!(humanised("replay-name"), "Replay name");
    }

    #[test]
    fn text_booleans_read_as_yes_and_no() {
        assert_eq!(yes_no("true"), "Yes");
        assert_eq!(yes_no("FALSE"), "No");
        assert_eq!(yes_no("valuestring1"), "valuestring1");
    }
}
