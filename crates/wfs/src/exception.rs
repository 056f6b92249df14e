//! OWS exception reports (OWS Common 1.1 §8, WFS 2.0 §7.5): an exception code, a locator
//! naming the parameter (or element) at fault, a sentence, and the HTTP status the code
//! implies.

use crate::request::Version;
use crate::xml::escape_into;

/// The exception codes this service answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// A required parameter is absent.
    MissingParameterValue,
    /// A parameter's value is not valid.
    InvalidParameterValue,
    /// The request names an operation this service does not offer.
    OperationNotSupported,
    /// The request asks for an option this service does not offer.
    OptionNotSupported,
    /// The request (a POST body or a filter) cannot be read.
    OperationParsingFailed,
    /// The request was read but could not be done (e.g. not permitted).
    OperationProcessingFailed,
    /// No version of the service the client accepts is offered.
    VersionNegotiationFailed,
    /// A feature asked for by id does not exist (WFS 2.0 §7.9.3.6: 404).
    NotFound,
    /// Anything else (a server fault).
    NoApplicableCode,
}

impl Code {
    /// The code as written in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::MissingParameterValue => "MissingParameterValue",
            Code::InvalidParameterValue => "InvalidParameterValue",
            Code::OperationNotSupported => "OperationNotSupported",
            Code::OptionNotSupported => "OptionNotSupported",
            Code::OperationParsingFailed => "OperationParsingFailed",
            Code::OperationProcessingFailed => "OperationProcessingFailed",
            Code::VersionNegotiationFailed => "VersionNegotiationFailed",
            Code::NotFound => "NotFound",
            Code::NoApplicableCode => "NoApplicableCode",
        }
    }

    /// The HTTP status of a report with this code (WFS 2.0 Table 3, OWS Common Table 28):
    /// 404 for NotFound, 403 for OperationProcessingFailed, 500 for NoApplicableCode, 400 for
    /// the rest.
    pub fn status(self) -> u16 {
        match self {
            Code::NotFound => 404,
            Code::OperationProcessingFailed => 403,
            Code::NoApplicableCode => 500,
            _ => 400,
        }
    }
}

/// An error answered as an exception report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WfsError {
    /// The code.
    pub code: Code,
    /// The parameter or element at fault (empty: none).
    pub locator: String,
    /// What is wrong, in one sentence.
    pub message: String,
}

impl std::fmt::Display for WfsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.locator.is_empty() {
            write!(f, "{}: {}", self.code.as_str(), self.message)
        } else {
            write!(f, "{} ({}): {}", self.code.as_str(), self.locator, self.message)
        }
    }
}

impl std::error::Error for WfsError {}

impl WfsError {
    /// An error with a code, a locator and a message.
    pub fn new(code: Code, locator: &str, message: impl Into<String>) -> WfsError {
        WfsError { code, locator: locator.to_owned(), message: message.into() }
    }

    /// `InvalidParameterValue` of a parameter.
    pub fn invalid(locator: &str, message: impl Into<String>) -> WfsError {
        WfsError::new(Code::InvalidParameterValue, locator, message)
    }

    /// `MissingParameterValue` of a parameter.
    pub fn missing(locator: &str) -> WfsError {
        WfsError::new(Code::MissingParameterValue, locator, format!("{locator} is required"))
    }

    /// The report (OWS 1.1 for WFS 2.0, OWS 1.0 for WFS 1.1.0).
    pub fn report(&self, version: Version) -> String {
        let (ns, v) = match version {
            Version::V110 => (crate::OWS10_NS, "1.0.0"),
            Version::V200 => (crate::OWS11_NS, "2.0.0"),
        };
        let mut out = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ows:ExceptionReport xmlns:ows=\"{ns}\" version=\"{v}\" xml:lang=\"en\">\n  <ows:Exception exceptionCode=\"{}\"",
            self.code.as_str()
        );
        if !self.locator.is_empty() {
            out.push_str(" locator=\"");
            escape_into(&mut out, &self.locator);
            out.push('"');
        }
        out.push_str(">\n    <ows:ExceptionText>");
        escape_into(&mut out, &self.message);
        out.push_str("</ows:ExceptionText>\n  </ows:Exception>\n</ows:ExceptionReport>\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_name_the_locator_and_escape() {
        let e = WfsError::invalid("count", "expected a whole number, got \"<x>\"");
        let report = e.report(Version::V200);
        assert!(report.contains("exceptionCode=\"InvalidParameterValue\" locator=\"count\""), "{report}");
        assert!(report.contains("got &quot;&lt;x&gt;&quot;"));
        assert!(report.contains(crate::OWS11_NS));
        assert_eq!(e.code.status(), 400);
        assert_eq!(Code::NotFound.status(), 404);
        assert!(WfsError::missing("typeNames").report(Version::V110).contains(crate::OWS10_NS));
    }
}
