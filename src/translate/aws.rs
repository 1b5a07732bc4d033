//! The span part of the `aws` block: the AWS call a span made.

use opentelemetry::{Array, Value};

use super::attributes::{Attributes, KeySet, Known};
use super::resource::ResourceInfo;
use crate::segment::Aws;

/// Keys the AWS stage consumes (also when the resource is not on AWS).
pub(super) const AWS_KEYS: KeySet = KeySet::of(&[
    Known::AwsOperation,
    Known::RpcMethod,
    Known::AwsAccountId,
    Known::AwsRegion,
    Known::AwsRequestId,
    Known::AwsRequestIdCamel,
    Known::AwsQueueUrl,
    Known::AwsQueueUrlDotted,
    Known::AwsTableName,
    Known::AwsTableNameDotted,
]);

/// The `aws` block: the resource's part plus the call details of the span.
pub(super) fn aws_block<'a>(attrs: &Attributes<'a>, resource: &'a ResourceInfo) -> Option<Aws<'a>> {
    let mut aws = resource.aws()?;
    let text = |a: Known, b: Known| attrs.last_of(a, b).and_then(super::attributes::as_str);
    aws.operation = attrs
        .str(Known::AwsOperation)
        .or_else(|| attrs.str(Known::RpcMethod));
    if let Some(account) = attrs.str(Known::AwsAccountId) {
        aws.account_id = Some(account);
    }
    aws.region = attrs.str(Known::AwsRegion);
    aws.request_id = text(Known::AwsRequestId, Known::AwsRequestIdCamel);
    aws.queue_url = attrs
        .str(Known::MessagingUrl)
        .or_else(|| text(Known::AwsQueueUrl, Known::AwsQueueUrlDotted));
    aws.table_name = text(Known::AwsTableName, Known::AwsTableNameDotted);
    match attrs.get(Known::AwsDynamodbTableNames) {
        Some(Value::Array(Array::String(tables))) if tables.len() == 1 => {
            aws.table_name = Some(tables[0].as_str());
        }
        Some(Value::Array(Array::String(tables))) if tables.len() > 1 => {
            aws.table_name = None;
            aws.table_names = Some(tables.iter().map(|t| t.as_str()).collect());
        }
        Some(Value::String(table)) => aws.table_name = Some(table.as_str()),
        _ => {}
    }
    Some(aws)
}
