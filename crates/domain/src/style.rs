//! Style declarations: how a sector's collections are drawn on the map. A sector crate declares,
//! per collection, a [`StyleDecl`] (its colour, a colour table
//! by code on one property with legend groups, fill, outline, dashes, the zoom from which an
//! outline shows, a label the viewer draws); the server's one style writer renders any of them as
//! a MapLibre style, so it never names a collection or a code.
//!
//! Declarations are data, not MapLibre JSON: a colour is `#rrggbb`, a width is in pixels, and
//! what a geometry kind draws (circles for points, a line for lines, a fill under an outline for
//! areas) is the writer's decision.

/// How a collection with geometry is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StyleDecl {
    /// The collection's colour (`#rrggbb`): points, lines, flat fills and outlines.
    pub colour: &'static str,
    /// How areas are filled; `None`: outline only (frames such as map sheets).
    pub fill: Option<Fill>,
    /// The line of lines and the outline of areas.
    pub outline: Outline,
    /// A property the map viewer writes over each feature, from a zoom on.
    pub label: Option<Label>,
    /// A base layer (administrative boundaries): its extent does not decide the map's first
    /// view, which fits the data drawn over it.
    pub base: bool,
}

impl StyleDecl {
    /// A collection without a declared style: grey, light fill, plain outline.
    pub const DEFAULT: StyleDecl =
        StyleDecl { colour: "#757575", fill: Some(Fill::LIGHT), outline: Outline::DEFAULT, label: None, base: false };

    /// The default style in another colour.
    pub const fn coloured(colour: &'static str) -> StyleDecl {
        StyleDecl { colour, ..StyleDecl::DEFAULT }
    }
}

/// The fill of areas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fill {
    /// Opacity, 0 to 1.
    pub opacity: f64,
    /// Colours by the code in a property instead of the collection's colour.
    pub by_code: Option<&'static CodeColours>,
}

impl Fill {
    /// The collection's colour, light enough to see what lies under it.
    pub const LIGHT: Fill = Fill { opacity: 0.25, by_code: None };
}

/// The line of lines and the outline of areas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outline {
    /// Its colour; `None`: the collection's.
    pub colour: Option<&'static str>,
    /// Its width; `None`: the writer's default for the geometry kind.
    pub width: Option<Width>,
    /// Dashed (limits, frames) rather than solid.
    pub dashed: bool,
    /// The zoom from which it is drawn (`None`: every zoom).
    pub min_zoom: Option<u8>,
}

impl Outline {
    /// A solid line in the collection's colour at every zoom.
    pub const DEFAULT: Outline = Outline { colour: None, width: None, dashed: false, min_zoom: None };
    /// A dashed line in the collection's colour at every zoom.
    pub const DASHED: Outline = Outline { dashed: true, ..Outline::DEFAULT };
}

/// A line width in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Width {
    /// The same at every zoom.
    Fixed(f64),
    /// Growing linearly from (zoom, width) to (zoom, width).
    Zoom {
        /// Zoom and width where it starts.
        from: (u8, f64),
        /// Zoom and width where it stops growing.
        to: (u8, f64),
    },
}

/// Colours by the code a property holds, in legend groups; legacy codes take the colour of the
/// code they became, and any other value the `unknown` colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeColours {
    /// The property holding the code (present in every tile of the collection, overviews too).
    pub property: &'static str,
    /// Title of the legend in Vietnamese.
    pub title_vi: &'static str,
    /// Title of the legend in English.
    pub title_en: &'static str,
    /// The codes with their colours (`#rrggbb`), in legend groups.
    pub groups: &'static [CodeGroup],
    /// Legacy codes and the current code whose colour they take.
    pub legacy: &'static [(&'static str, &'static str)],
    /// The colour of any other value.
    pub unknown: &'static str,
}

/// A group of codes in the legend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeGroup {
    /// Name in Vietnamese.
    pub title_vi: &'static str,
    /// Name in English.
    pub title_en: &'static str,
    /// Each code with its colour (`#rrggbb`).
    pub codes: &'static [(&'static str, &'static str)],
}

impl CodeColours {
    /// The colour of a code (a legacy code takes its successor's; any other value `unknown`).
    pub fn colour(&self, code: &str) -> &'static str {
        let code = self.legacy.iter().find(|(legacy, _)| *legacy == code).map_or(code, |(_, current)| current);
        self.codes().find(|(c, _)| *c == code).map_or(self.unknown, |(_, colour)| colour)
    }

    /// Every current code with its colour, group by group.
    pub fn codes(&self) -> impl Iterator<Item = &'static (&'static str, &'static str)> {
        self.groups.iter().flat_map(|g| g.codes.iter())
    }
}

/// A property written over each feature by the map viewer (as HTML, so no glyphs are needed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label {
    /// The property (a tile property).
    pub property: &'static str,
    /// The zoom from which labels are drawn.
    pub min_zoom: u8,
    /// The viewer's switch in Vietnamese.
    pub title_vi: &'static str,
    /// The viewer's switch in English.
    pub title_en: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: CodeColours = CodeColours {
        property: "use",
        title_vi: "Chú giải",
        title_en: "Legend",
        groups: &[CodeGroup { title_vi: "A", title_en: "A", codes: &[("AAA", "#111111"), ("BBB", "#222222")] }],
        legacy: &[("OLD", "BBB")],
        unknown: "#cccccc",
    };

    #[test]
    fn codes_legacy_codes_and_others_have_their_colours() {
        assert_eq!(TABLE.colour("AAA"), "#111111");
        assert_eq!(TABLE.colour("OLD"), "#222222");
        assert_eq!(TABLE.colour("XYZ"), "#cccccc");
        assert_eq!(TABLE.codes().count(), 2);
        assert_eq!(StyleDecl::coloured("#123456").fill, Some(Fill::LIGHT));
    }
}
