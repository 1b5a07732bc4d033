//! The `sql` block, for spans whose `db.system` is a SQL database.

use std::borrow::Cow;

use super::attributes::{Attributes, KeySet, Known};
use crate::redact::without_credentials;
use crate::segment::Sql;

/// Keys the SQL stage consumes when it writes a `sql` block.
pub(super) const SQL_KEYS: KeySet = KeySet::of(&[
    Known::DbConnectionString,
    Known::DbSystem,
    Known::DbName,
    Known::DbStatement,
    Known::DbUser,
]);

const SQL_SYSTEMS: &[&str] = &[
    "db2",
    "derby",
    "hive",
    "mariadb",
    "mssql",
    "mysql",
    "oracle",
    "postgresql",
    "sqlite",
    "teradata",
    "other_sql",
];

/// The `sql` block, or `None` when the span is not a call to a SQL database.
pub(super) fn sql_block<'a>(attrs: &Attributes<'a>, span_name: &'a str) -> Option<Sql<'a>> {
    let system = attrs.str(Known::DbSystem).filter(|s| SQL_SYSTEMS.contains(s))?;
    let connection = attrs
        .str(Known::DbConnectionString)
        .filter(|c| !c.is_empty())
        .unwrap_or("localhost");
    let database = attrs.str(Known::DbName).unwrap_or("");
    // A key-value connection string (`Server=h;Database=d`) names its database itself; the
    // reference's `/` + `db.name` would only make it unreadable.
    let key_value = connection.contains('=') && !connection.contains("://");
    let connection = without_credentials(connection);
    Some(Sql {
        url: Some(span_name).filter(|n| !n.is_empty()).map(Cow::Borrowed),
        connection_string: Some(if key_value {
            connection
        } else {
            Cow::Owned(format!("{connection}/{database}"))
        }),
        sanitized_query: attrs
            .str(Known::DbStatement)
            .filter(|s| !s.is_empty())
            .map(Cow::Borrowed),
        database_type: Some(system),
        user: attrs.str(Known::DbUser).filter(|s| !s.is_empty()),
    })
}
