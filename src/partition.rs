//! AWS partitions: the separate AWS clouds an ARN names in its second field
//! (`arn:PARTITION:service:region:account:resource`). A link into the console must stay in the
//! partition the ARN names: a GovCloud or China event opened in the commercial console shows
//! nothing. Only the partitions delibird knows how to link into are
//! named here; any other (the isolated `aws-iso*` clouds, say) is `None` wherever one is asked
//! for, so that nothing points into the wrong cloud. No I/O here.

use std::fmt;

/// A partition delibird knows how to link into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Partition {
    /// `aws`: the commercial Regions.
    Aws,
    /// `aws-us-gov`: AWS GovCloud (US).
    AwsUsGov,
    /// `aws-cn`: the China Regions (Beijing, Ningxia).
    AwsCn,
}

impl Partition {
    /// Every partition delibird knows, in the order messages list them.
    pub const ALL: [Self; 3] = [Self::Aws, Self::AwsUsGov, Self::AwsCn];

    /// The partition named `name` (`aws`, `aws-us-gov`, `aws-cn`), exactly as ARNs write it.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|partition| partition.name() == name)
    }

    /// The partition an ARN names, `None` for text that is not an ARN or names another one.
    pub fn of_arn(arn: &str) -> Option<Self> {
        let mut fields = arn.split(':');
        match (fields.next(), fields.next()) {
            (Some("arn"), Some(name)) => Self::named(name),
            _ => None,
        }
    }

    /// Its name in ARNs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Aws => "aws",
            Self::AwsUsGov => "aws-us-gov",
            Self::AwsCn => "aws-cn",
        }
    }

    /// The host of its AWS Management Console. The GovCloud (US) User Guide signs in at
    /// `https://console.amazonaws-us-gov.com` ("Configuring Your Account"); the China Regions'
    /// console is `https://console.amazonaws.cn` (Getting Started with Amazon Web Services in
    /// China); the commercial one is `https://console.aws.amazon.com`.
    pub fn console_host(self) -> &'static str {
        match self {
            Self::Aws => "console.aws.amazon.com",
            Self::AwsUsGov => "console.amazonaws-us-gov.com",
            Self::AwsCn => "console.amazonaws.cn",
        }
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partition_is_the_second_field_of_an_arn() {
        assert_eq!(Partition::of_arn("arn:aws:health:us-east-1::event/X"), Some(Partition::Aws));
        assert_eq!(Partition::of_arn("arn:aws-us-gov:health:us-gov-west-1::event/X"), Some(Partition::AwsUsGov));
        assert_eq!(Partition::of_arn("arn:aws-cn:health:cn-north-1::event/X"), Some(Partition::AwsCn));
    }

    #[test]
    fn an_unknown_partition_or_text_that_is_no_arn_has_none() {
        for text in ["arn:aws-iso:health:us-iso-east-1::event/X", "arn:AWS:health:x", "arn:", "aws:health", "", "x"] {
            assert_eq!(Partition::of_arn(text), None, "{text}");
        }
    }
}
