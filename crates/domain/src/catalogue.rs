//! What a sector tells the data catalogue (OGC API - Records, ISO 19115 / QCVN 42:2020, DCAT)
//! about its datasets and collections, beyond what their declarations already say: the owning
//! agency, the ISO 19115 topic category, the update frequency, the legal basis and the licence,
//! with per-dataset overrides. Extents, row counts and last changes are not declared: the
//! catalogue reads them from the live database (crate `geosector-catalogue`).

/// A sector's catalogue metadata: defaults for all its datasets and collections, then
/// overrides by id.
#[derive(Debug, Clone, Copy)]
pub struct CatalogueDecl {
    /// The owning agency, in Vietnamese (e.g. "Cục Quản lý đất đai").
    pub agency_vi: &'static str,
    /// The owning agency, in English.
    pub agency_en: &'static str,
    /// The agency's code, when it has one [U] (configurable through the overrides file).
    pub agency_code: &'static str,
    /// The contact e-mail address of the agency's data office.
    pub email: &'static str,
    /// The ISO 19115 topic category of the sector's data.
    pub topic: Topic,
    /// Keywords added to every record of the sector.
    pub keywords: &'static [&'static str],
    /// Legal basis of the sector's data (laws, decrees, circulars).
    pub legal_basis: &'static [&'static str],
    /// Licence of the public data (a URL or a name).
    pub licence: &'static str,
    /// How often the sector's data are updated.
    pub frequency: Frequency,
    /// Overrides per dataset or collection id.
    pub entries: &'static [CatalogueEntry],
}

impl CatalogueDecl {
    /// The overrides of a dataset or collection.
    pub fn entry(&self, id: &str) -> Option<&CatalogueEntry> {
        self.entries.iter().find(|e| e.id == id)
    }
}

/// What one dataset or collection says differently from its sector's defaults (empty members
/// and `None`s keep the defaults).
#[derive(Debug, Clone, Copy)]
pub struct CatalogueEntry {
    /// The dataset or collection id (`land.parcels`).
    pub id: &'static str,
    /// Title in Vietnamese (datasets without a collection of the same id need one).
    pub title_vi: Option<&'static str>,
    /// Title in English.
    pub title_en: Option<&'static str>,
    /// Description in Vietnamese.
    pub description_vi: Option<&'static str>,
    /// Its topic category.
    pub topic: Option<Topic>,
    /// Its update frequency.
    pub frequency: Option<Frequency>,
    /// Keywords added to its record.
    pub keywords: &'static [&'static str],
    /// Legal basis added to the sector's.
    pub legal_basis: &'static [&'static str],
}

impl CatalogueEntry {
    /// An entry that overrides nothing.
    pub const fn new(id: &'static str) -> CatalogueEntry {
        CatalogueEntry {
            id,
            title_vi: None,
            title_en: None,
            description_vi: None,
            topic: None,
            frequency: None,
            keywords: &[],
            legal_basis: &[],
        }
    }
}

/// ISO 19115 `MD_TopicCategoryCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[expect(missing_docs, reason = "the ISO code names say it")]
pub enum Topic {
    Farming,
    Biota,
    Boundaries,
    ClimatologyMeteorologyAtmosphere,
    Economy,
    Elevation,
    Environment,
    GeoscientificInformation,
    Health,
    ImageryBaseMapsEarthCover,
    IntelligenceMilitary,
    InlandWaters,
    Location,
    Oceans,
    PlanningCadastre,
    Society,
    Structure,
    Transportation,
    UtilitiesCommunication,
}

impl Topic {
    /// The ISO code (`planningCadastre`).
    pub const fn code(self) -> &'static str {
        match self {
            Topic::Farming => "farming",
            Topic::Biota => "biota",
            Topic::Boundaries => "boundaries",
            Topic::ClimatologyMeteorologyAtmosphere => "climatologyMeteorologyAtmosphere",
            Topic::Economy => "economy",
            Topic::Elevation => "elevation",
            Topic::Environment => "environment",
            Topic::GeoscientificInformation => "geoscientificInformation",
            Topic::Health => "health",
            Topic::ImageryBaseMapsEarthCover => "imageryBaseMapsEarthCover",
            Topic::IntelligenceMilitary => "intelligenceMilitary",
            Topic::InlandWaters => "inlandWaters",
            Topic::Location => "location",
            Topic::Oceans => "oceans",
            Topic::PlanningCadastre => "planningCadastre",
            Topic::Society => "society",
            Topic::Structure => "structure",
            Topic::Transportation => "transportation",
            Topic::UtilitiesCommunication => "utilitiesCommunication",
        }
    }

    /// Every topic, in ISO order.
    pub const ALL: &'static [Topic] = &[
        Topic::Farming,
        Topic::Biota,
        Topic::Boundaries,
        Topic::ClimatologyMeteorologyAtmosphere,
        Topic::Economy,
        Topic::Elevation,
        Topic::Environment,
        Topic::GeoscientificInformation,
        Topic::Health,
        Topic::ImageryBaseMapsEarthCover,
        Topic::IntelligenceMilitary,
        Topic::InlandWaters,
        Topic::Location,
        Topic::Oceans,
        Topic::PlanningCadastre,
        Topic::Society,
        Topic::Structure,
        Topic::Transportation,
        Topic::UtilitiesCommunication,
    ];

    /// The topic of an ISO code.
    pub fn from_code(code: &str) -> Option<Topic> {
        Topic::ALL.iter().copied().find(|t| t.code() == code)
    }
}

/// ISO 19115 `MD_MaintenanceFrequencyCode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[expect(missing_docs, reason = "the ISO code names say it")]
pub enum Frequency {
    Continual,
    Daily,
    Weekly,
    Fortnightly,
    Monthly,
    Quarterly,
    Biannually,
    Annually,
    AsNeeded,
    Irregular,
    NotPlanned,
    Unknown,
}

impl Frequency {
    /// Every frequency, in ISO order.
    pub const ALL: &'static [Frequency] = &[
        Frequency::Continual,
        Frequency::Daily,
        Frequency::Weekly,
        Frequency::Fortnightly,
        Frequency::Monthly,
        Frequency::Quarterly,
        Frequency::Biannually,
        Frequency::Annually,
        Frequency::AsNeeded,
        Frequency::Irregular,
        Frequency::NotPlanned,
        Frequency::Unknown,
    ];

    /// The ISO code (`asNeeded`).
    pub const fn code(self) -> &'static str {
        match self {
            Frequency::Continual => "continual",
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Fortnightly => "fortnightly",
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
            Frequency::Biannually => "biannually",
            Frequency::Annually => "annually",
            Frequency::AsNeeded => "asNeeded",
            Frequency::Irregular => "irregular",
            Frequency::NotPlanned => "notPlanned",
            Frequency::Unknown => "unknown",
        }
    }

    /// The frequency of an ISO code.
    pub fn from_code(code: &str) -> Option<Frequency> {
        Frequency::ALL.iter().copied().find(|f| f.code() == code)
    }

    /// The Dublin Core frequency (`dct:accrualPeriodicity`, EU frequency vocabulary).
    pub const fn dcat_uri(self) -> &'static str {
        match self {
            Frequency::Continual => "http://publications.europa.eu/resource/authority/frequency/CONT",
            Frequency::Daily => "http://publications.europa.eu/resource/authority/frequency/DAILY",
            Frequency::Weekly => "http://publications.europa.eu/resource/authority/frequency/WEEKLY",
            Frequency::Fortnightly => "http://publications.europa.eu/resource/authority/frequency/BIWEEKLY",
            Frequency::Monthly => "http://publications.europa.eu/resource/authority/frequency/MONTHLY",
            Frequency::Quarterly => "http://publications.europa.eu/resource/authority/frequency/QUARTERLY",
            Frequency::Biannually => "http://publications.europa.eu/resource/authority/frequency/ANNUAL_2",
            Frequency::Annually => "http://publications.europa.eu/resource/authority/frequency/ANNUAL",
            Frequency::AsNeeded | Frequency::Irregular => {
                "http://publications.europa.eu/resource/authority/frequency/IRREG"
            }
            Frequency::NotPlanned => "http://publications.europa.eu/resource/authority/frequency/NEVER",
            Frequency::Unknown => "http://publications.europa.eu/resource/authority/frequency/UNKNOWN",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for t in Topic::ALL {
            assert_eq!(Topic::from_code(t.code()), Some(*t));
        }
        for f in Frequency::ALL {
            assert_eq!(Frequency::from_code(f.code()), Some(*f));
        }
        assert_eq!(Topic::from_code("cadastre"), None);
    }
}
