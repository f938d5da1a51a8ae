//! What the view of an event holds ([`super::view`]): the EventBridge envelope, the Health event's
//! `detail` as AWS documents it, and what delibird adds under `delibird.`. The rule language
//! checks every field a rule or a query names against this one description, so that a typo
//! (`detail.servce`) is an error with a suggestion instead of a rule that never matches; the
//! view fills `delibird.` from the same [`Fact`]s. No I/O here.
//!
//! Sources: the AWS Health user guide's EventBridge schema page and the fixtures in
//! `tests/fixtures/` (see `/work/shared/reference/aws-health-events.md`). Below an open map
//! (`detail.eventMetadata`, an entity's `tags`, `delibird.account.tags`) any name is accepted:
//! their keys are the event's own.

use crate::suggest::closest;

/// One field of the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Its name, as written after a dot (or first, at the top).
    pub name: &'static str,
    /// What it holds.
    pub shape: Shape,
}

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Text, a number or a boolean.
    Value,
    /// A time (`Sat, 30 Nov 2019 01:00:00 GMT`, or ISO 8601): compared as an instant.
    Time,
    /// A list of values (`resources`, `detail.personas`).
    Values,
    /// An object with these fields.
    Object(&'static [Field]),
    /// A list of objects with these fields; a path continues into each item.
    Objects(&'static [Field]),
    /// A map whose keys are the event's own: any name is a field below it.
    Open,
}

impl Field {
    const fn value(name: &'static str) -> Self {
        Self { name, shape: Shape::Value }
    }

    const fn time(name: &'static str) -> Self {
        Self { name, shape: Shape::Time }
    }

    const fn of(name: &'static str, shape: Shape) -> Self {
        Self { name, shape }
    }
}

/// The top of the view: the EventBridge envelope, `detail`, and `delibird`.
pub const ROOT: &[Field] = &[
    Field::value("version"),
    Field::value("id"),
    Field::value("detail-type"),
    Field::value("source"),
    Field::value("account"),
    Field::time("time"),
    Field::value("region"),
    Field::of("resources", Shape::Values),
    Field::of("detail", Shape::Object(DETAIL)),
    Field::value("replay-name"),
    Field::of("delibird", Shape::Object(&DELIBIRD)),
];

/// `detail`: the Health event, with EventBridge's names.
pub const DETAIL: &[Field] = &[
    Field::value("eventArn"),
    Field::value("service"),
    Field::value("eventTypeCode"),
    Field::value("eventTypeCategory"),
    Field::value("eventScopeCode"),
    Field::value("communicationId"),
    Field::time("startTime"),
    Field::time("endTime"),
    Field::time("lastUpdatedTime"),
    Field::value("statusCode"),
    Field::value("eventRegion"),
    Field::of("eventDescription", Shape::Objects(DESCRIPTION)),
    Field::of("eventMetadata", Shape::Open),
    Field::of("affectedEntities", Shape::Objects(ENTITY)),
    Field::value("affectedAccount"),
    Field::value("page"),
    Field::value("totalPages"),
    Field::value("backupEvent"),
    Field::value("actionability"),
    Field::of("personas", Shape::Values),
];

/// An item of `detail.eventDescription`.
pub const DESCRIPTION: &[Field] = &[Field::value("language"), Field::value("latestDescription")];

/// An item of `detail.affectedEntities`: both spellings AWS uses of the status and of the time.
pub const ENTITY: &[Field] = &[
    Field::value("entityValue"),
    Field::value("entityArn"),
    Field::value("status"),
    Field::value("statusCode"),
    Field::time("lastUpdatedTime"),
    Field::time("lastupdatedTime"),
    Field::of("tags", Shape::Open),
];

/// The values of `delibird.severity`, as the card's severities in lower case.
pub const SEVERITIES: &[&str] = &["critical", "high", "warning", "info"];

/// What delibird adds under `delibird.`: [`super::view`] fills each one, and the checks accept
/// exactly these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    /// `critical`, `high`, `warning` or `info`: the card's severity.
    Severity,
    /// The affected account: [`AccountFact`]s.
    Account,
    /// The card's title, `EC2 instance retirement scheduled`.
    Title,
    /// `false` when the event failed validation (a degraded card).
    Valid,
    /// `detail.startTime` as ISO 8601 UTC, when it could be read.
    StartTime,
    /// `detail.endTime` likewise.
    EndTime,
    /// `detail.lastUpdatedTime` likewise.
    LastUpdatedTime,
}

impl Fact {
    /// Every fact.
    pub const ALL: [Self; 7] = [
        Self::Severity,
        Self::Account,
        Self::Title,
        Self::Valid,
        Self::StartTime,
        Self::EndTime,
        Self::LastUpdatedTime,
    ];

    /// Its field: name and shape.
    pub const fn field(self) -> Field {
        match self {
            Self::Severity => Field::value("severity"),
            Self::Account => Field::of("account", Shape::Object(&ACCOUNT)),
            Self::Title => Field::value("title"),
            Self::Valid => Field::value("valid"),
            Self::StartTime => Field::time("startTime"),
            Self::EndTime => Field::time("endTime"),
            Self::LastUpdatedTime => Field::time("lastUpdatedTime"),
        }
    }

    /// Its name under `delibird.`.
    pub const fn name(self) -> &'static str {
        self.field().name
    }
}

/// What `delibird.account.` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountFact {
    /// The affected account's id (`detail.affectedAccount`, else `account`).
    Id,
    /// Its name (`DELIBIRD_ACCOUNT_ALIASES`, or AWS Organizations).
    Name,
    /// Its OU path, `Production / Payments` (AWS Organizations).
    Ou,
    /// Its tags named in `DELIBIRD_ACCOUNT_TAGS` (AWS Organizations).
    Tags,
}

impl AccountFact {
    /// Every account fact.
    pub const ALL: [Self; 4] = [Self::Id, Self::Name, Self::Ou, Self::Tags];

    /// Its field: name and shape.
    pub const fn field(self) -> Field {
        match self {
            Self::Id => Field::value("id"),
            Self::Name => Field::value("name"),
            Self::Ou => Field::value("ou"),
            Self::Tags => Field::of("tags", Shape::Open),
        }
    }

    /// Its name under `delibird.account.`.
    pub const fn name(self) -> &'static str {
        self.field().name
    }
}

/// `delibird.`'s fields, from [`Fact::ALL`].
const DELIBIRD: [Field; Fact::ALL.len()] = {
    let mut fields = [Field::value(""); Fact::ALL.len()];
    let mut i = 0;
    while i < fields.len() {
        fields[i] = Fact::ALL[i].field();
        i += 1;
    }
    fields
};

/// `delibird.account.`'s fields, from [`AccountFact::ALL`].
const ACCOUNT: [Field; AccountFact::ALL.len()] = {
    let mut fields = [Field::value(""); AccountFact::ALL.len()];
    let mut i = 0;
    while i < fields.len() {
        fields[i] = AccountFact::ALL[i].field();
        i += 1;
    }
    fields
};

/// Why a dotted path names no field of the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// No field of that name where the path reached.
    Unknown {
        /// The whole path, dotted.
        path: String,
        /// The name that is not a field.
        name: String,
        /// The field it is below, dotted; `None` at the top.
        parent: Option<String>,
        /// The names known there.
        known: Vec<&'static str>,
        /// The known path it most likely means, dotted.
        suggestion: Option<String>,
    },
    /// The path goes on below a field that holds a value or a list of values.
    BelowAValue {
        /// The field that holds a value, dotted.
        field: String,
        /// What it holds.
        shape: Shape,
    },
}

/// What the field at `path` holds, or why no field is there.
pub fn shape_of(path: &[String]) -> Result<Shape, PathError> {
    let mut shape = Shape::Object(ROOT);
    for (depth, name) in path.iter().enumerate() {
        let fields = match shape {
            Shape::Object(inner) | Shape::Objects(inner) => inner,
            Shape::Open => return Ok(Shape::Open),
            Shape::Value | Shape::Time | Shape::Values => {
                return Err(PathError::BelowAValue { field: path[..depth].join("."), shape });
            }
        };
        let Some(field) = fields.iter().find(|field| field.name == name) else {
            let parent = (depth > 0).then(|| path[..depth].join("."));
            let suggestion = closest(name, fields.iter().map(|field| field.name)).map(|near| {
                let mut suggested = path.to_vec();
                near.clone_into(&mut suggested[depth]);
                suggested.join(".")
            });
            return Err(PathError::Unknown {
                path: path.join("."),
                name: name.clone(),
                parent,
                known: fields.iter().map(|field| field.name).collect(),
                suggestion,
            });
        };
        shape = field.shape;
    }
    Ok(shape)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(dotted: &str) -> Vec<String> {
        dotted.split('.').map(str::to_owned).collect()
    }

    #[test]
    fn known_paths_have_their_shape() {
        assert_eq!(shape_of(&path("detail.service")), Ok(Shape::Value));
        assert_eq!(shape_of(&path("detail.startTime")), Ok(Shape::Time));
        assert_eq!(shape_of(&path("detail.affectedEntities.lastupdatedTime")), Ok(Shape::Time));
        assert_eq!(shape_of(&path("detail.eventMetadata.anything.below")), Ok(Shape::Open));
        assert_eq!(shape_of(&path("delibird.account.tags.Owner")), Ok(Shape::Open));
        assert_eq!(shape_of(&path("resources")), Ok(Shape::Values));
        assert_eq!(shape_of(&path("delibird.startTime")), Ok(Shape::Time));
    }

    #[test]
    fn an_unknown_detail_field_suggests_the_nearest_known_one() {
        let Err(PathError::Unknown { path: at, name, parent, suggestion, known }) = shape_of(&path("detail.servce"))
        else {
            panic!("detail.servce is not a field");
        };
        assert_eq!((at.as_str(), name.as_str(), parent.as_deref()), ("detail.servce", "servce", Some("detail")));
        assert_eq!(suggestion.as_deref(), Some("detail.service"));
        assert!(known.contains(&"eventTypeCode"));
        let Err(PathError::Unknown { suggestion, .. }) = shape_of(&path("delibird.acount.name")) else {
            panic!("acount is not a field");
        };
        assert_eq!(suggestion.as_deref(), Some("delibird.account.name"));
    }

    #[test]
    fn a_path_below_a_value_is_refused() {
        let error = shape_of(&path("detail.service.name")).unwrap_err();
        assert_eq!(error, PathError::BelowAValue { field: "detail.service".into(), shape: Shape::Value });
    }

    #[test]
    fn severities_are_the_cards_in_lower_case() {
        use crate::card::Severity;
        let labels: Vec<String> = [Severity::Critical, Severity::High, Severity::Warning, Severity::Info]
            .iter()
            .map(|severity| severity.label().to_lowercase())
            .collect();
        assert_eq!(labels, SEVERITIES);
    }
}
