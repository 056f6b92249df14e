// geosector's map viewer (served at /map/assets/viewer.js, embedded in the binary).
//
// Reads the page's configuration (#geosector-config: language, sectors and their collections,
// declared labels, interface texts), loads every sector's style from /styles/{sector}, combines
// them into one map, fits the data extent unless the URL hash (#zoom/lat/lon) gives a view, and
// wires the layer list, the legend of a fill by code, feature info on click (the full record
// from /collections/{id}/items/{featureId}), the declared labels such as parcel numbers
// (drawn as HTML, so no glyphs are needed), and the lookup of features by their natural key.
// No collection or property is named here. No request leaves this server.
//
// For tests: window.geosector.ready resolves to the map once its style has loaded
// (window.geosector.map is the map as soon as it exists).
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('geosector-config').textContent);
  var texts = config.texts;
  var lang = config.lang;
  var status = document.getElementById('status');
  var TYPE_ORDER = { background: 0, fill: 1, line: 2, circle: 3, symbol: 4 };

  function pick(vi, en) { return lang === 'en' ? en : vi; }

  function element(tag, attributes, children) {
    var e = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (k) { e.setAttribute(k, attributes[k]); });
    (children || []).forEach(function (c) { e.append(c); });
    return e;
  }

  // Language links keep the map view (the hash).
  document.querySelectorAll('a[data-lang]').forEach(function (a) {
    a.addEventListener('click', function (event) {
      event.preventDefault();
      var url = new URL(window.location.href);
      url.searchParams.set('lang', a.getAttribute('data-lang'));
      window.location.assign(url.toString());
    });
  });

  if (typeof maplibregl === 'undefined' || !config.maplibre) {
    status.textContent = texts.noMaplibre;
    var failed = Promise.reject(new Error(texts.noMaplibre));
    failed.catch(function () {});
    window.geosector = { ready: failed };
    return;
  }

  // One style from the sector styles: one background, then every fill, line and circle layer
  // (areas under outlines under points), keeping sector order within each kind.
  function combine(styles) {
    var sources = {};
    var layers = [];
    var bounds = null;
    styles.forEach(function (style) {
      Object.keys(style.sources).forEach(function (id) {
        var source = style.sources[id];
        sources[id] = source;
        if (source.bounds) {
          var b = source.bounds;
          bounds = bounds ? [Math.min(bounds[0], b[0]), Math.min(bounds[1], b[1]), Math.max(bounds[2], b[2]), Math.max(bounds[3], b[3])] : b.slice();
        }
      });
      style.layers.forEach(function (layer) {
        if (layer.type !== 'background' || !layers.some(function (l) { return l.type === 'background'; })) {
          layers.push(layer);
        }
      });
    });
    layers = layers.map(function (l, i) { return [l, i]; }).sort(function (a, b) {
      return (TYPE_ORDER[a[0].type] - TYPE_ORDER[b[0].type]) || (a[1] - b[1]);
    }).map(function (pair) { return pair[0]; });
    return { style: { version: 8, name: 'geosector', sources: sources, layers: layers }, bounds: bounds };
  }

  function collectionOf(layer) {
    return layer.metadata && layer.metadata['geosector:collection'];
  }

  function renderLegend(style) {
    var details = document.getElementById('legend');
    var fill = style.layers.find(function (l) { return l.metadata && l.metadata['geosector:legend']; });
    if (!fill) { details.hidden = true; return; }
    fill.metadata['geosector:legend'].forEach(function (group) {
      var line = element('div', { class: 'legend-group' }, [element('strong', {}, [pick(group.title_vi, group.title_en)]), ' ']);
      group.codes.forEach(function (pair) {
        var swatch = element('span', { class: 'swatch', style: 'background:' + pair[1] });
        line.append(element('span', { class: 'code' }, [swatch, pair[0]]));
      });
      details.append(line);
    });
  }

  function propertiesTable(properties) {
    var table = element('table');
    Object.keys(properties).forEach(function (k) {
      var v = properties[k];
      if (v === null || v === undefined) { v = ''; } else if (typeof v === 'object') { v = JSON.stringify(v); }
      table.append(element('tr', {}, [element('th', {}, [k]), element('td', {}, [String(v)])]));
    });
    return table;
  }

  function showFeature(map, feature, lngLat) {
    var collection = collectionOf(feature.layer);
    var meta = feature.layer.metadata;
    // Every feature of a tile has its id; the generalised cells of low zooms (overviews) have none.
    var generalised = feature.id === undefined || feature.id === null;
    var heading = element('h2', {}, [pick(meta['geosector:title_vi'], meta['geosector:title_en']) + (feature.id !== undefined && !generalised ? ' ' + feature.id : '')]);
    var note = element('p', { class: 'note' }, [generalised ? texts.cell : texts.fromTile]);
    var body = element('div', { class: 'popup', 'data-collection': collection, 'data-source': 'tile' }, [heading, note, propertiesTable(feature.properties)]);
    new maplibregl.Popup({ maxWidth: '24rem' }).setLngLat(lngLat).setDOMContent(body).addTo(map);
    if (feature.id === undefined || feature.id === null || generalised) { return; }
    // The tile carries what drawing needs; the record has every published property.
    var href = '/collections/' + encodeURIComponent(collection) + '/items/' + encodeURIComponent(feature.id);
    note.textContent = texts.loading;
    fetch(href + '?f=json', { headers: { Accept: 'application/geo+json' } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (record) {
        note.textContent = '';
        note.append(element('a', { href: href + '?f=html', target: '_blank' }, [texts.fullRecord]));
        body.replaceChild(propertiesTable(record.properties || {}), body.querySelector('table'));
        body.setAttribute('data-source', 'item');
      })
      .catch(function () { note.textContent = texts.fromTile; });
  }

  // Declared labels (a property per feature, from a zoom on) as HTML, one per feature (tiles
  // split a feature: its largest rendered piece carries the label).
  function drawLabels(map, style, enabled) {
    // Inside the map, over the canvas and under popups and controls.
    var box = document.getElementById('labels');
    map.getCanvasContainer().insertBefore(box, map.getCanvas().nextSibling);
    function clear() { box.replaceChildren(); }
    function draw() {
      clear();
      if (!enabled()) { return; }
      config.labels.forEach(function (label) {
        var layers = style.layers.filter(function (l) { return collectionOf(l) === label.collection; }).map(function (l) { return l.id; });
        if (map.getZoom() < label.minzoom || !layers.length || !map.getLayer(layers[0]) ||
            map.getLayoutProperty(layers[0], 'visibility') === 'none') { return; }
        var best = {};
        map.queryRenderedFeatures({ layers: layers }).forEach(function (f) {
          var text = f.properties[label.property];
          if (f.id === undefined || text === undefined || text === null || text === '') { return; }
          var g = f.geometry;
          var rings = g.type === 'Polygon' ? [g.coordinates[0]] : g.type === 'MultiPolygon' ? g.coordinates.map(function (p) { return p[0]; }) : g.type === 'Point' ? [[g.coordinates]] : [];
          rings.forEach(function (ring) {
            var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
            ring.forEach(function (c) { x0 = Math.min(x0, c[0]); y0 = Math.min(y0, c[1]); x1 = Math.max(x1, c[0]); y1 = Math.max(y1, c[1]); });
            var size = (x1 - x0) * (y1 - y0);
            if (!best[f.id] || best[f.id].size < size) {
              best[f.id] = { size: size, at: [(x0 + x1) / 2, (y0 + y1) / 2], text: String(text) };
            }
          });
        });
        Object.keys(best).forEach(function (id) {
          var p = map.project(best[id].at);
          var span = element('span', {}, [best[id].text]);
          span.style.left = p.x + 'px';
          span.style.top = p.y + 'px';
          box.append(span);
        });
      });
    }
    map.on('movestart', clear);
    map.on('idle', draw);
    return draw;
  }

  // An API key the page was opened with (?apikey=…) goes on with the viewer's own requests.
  var apiKey = new URLSearchParams(window.location.search).get('apikey');
  function keyed(url) {
    return apiKey ? url + (url.indexOf('?') < 0 ? '?' : '&') + 'apikey=' + encodeURIComponent(apiKey) : url;
  }

  function getJson(url) {
    return fetch(keyed(url), { headers: { Accept: 'application/geo+json, application/json' } }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) { var e = new Error(body.description || String(r.status)); e.status = r.status; throw e; }
        return body;
      });
    });
  }

  function boundsOf(geometry) {
    var b = [Infinity, Infinity, -Infinity, -Infinity];
    (function walk(c) {
      if (typeof c[0] === 'number') {
        b = [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])];
      } else { c.forEach(walk); }
    })(geometry.coordinates);
    return b;
  }

  // Looking features up by their natural key (/collections/{id}/lookup, e.g. a parcel by its
  // commune's name or code, sheet and number): the map zooms to what was found and shows its
  // record, and the related features (a parcel's owners) when the caller may read them. The
  // page's URL then names the lookup (?lookup=<collection>&<key>=…), so it can be shared: opening
  // it runs the lookup again.
  function wireLookup(map) {
    var form = document.getElementById('lookup-form');
    if (!form) { return; }
    var select = form.querySelector('select');
    var holder = document.getElementById('lookup-fields');
    var results = document.getElementById('lookup-results');
    var popup = null;
    function spec() { return config.lookups.find(function (l) { return l.collection === select.value; }); }
    function render(values) {
      holder.replaceChildren();
      var s = spec();
      var inputs = (s.commune ? [{ name: 'commune', title: texts.commune }] : []).concat(s.fields);
      inputs.forEach(function (f) {
        var input = element('input', { name: f.name, placeholder: f.title, 'aria-label': f.title, inputmode: f.integer ? 'numeric' : 'text' });
        input.value = values[f.name] || '';
        holder.append(input);
      });
    }
    function show(s, feature) {
      if (feature.geometry) {
        var b = boundsOf(feature.geometry);
        map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 64, maxZoom: 19, duration: 0 });
      }
      var href = '/collections/' + encodeURIComponent(s.collection) + '/items/' + encodeURIComponent(feature.id);
      var body = element('div', { class: 'popup', 'data-collection': s.collection, 'data-source': 'lookup', 'data-id': String(feature.id) }, [
        element('h2', {}, [select.options[select.selectedIndex].text + ' ' + feature.id]),
        element('p', { class: 'note' }, [element('a', { href: keyed(href + '?f=html'), target: '_blank' }, [texts.fullRecord])]),
        propertiesTable(feature.properties || {})
      ]);
      if (popup) { popup.remove(); }
      var at = map.getCenter();
      popup = new maplibregl.Popup({ maxWidth: '24rem' }).setLngLat(at).setDOMContent(body).addTo(map);
      // Related features (owners) only for a caller allowed to read them; others see none.
      s.relations.forEach(function (relation) {
        getJson(href + '/' + encodeURIComponent(relation)).then(function (related) {
          var features = related.features || [];
          if (!features.length) { return; }
          var section = element('div', { 'data-relation': relation }, [element('h2', {}, [relation])]);
          features.forEach(function (f) { section.append(propertiesTable(f.properties || {})); });
          body.append(section);
        }).catch(function () {});
      });
    }
    function run(values) {
      var s = spec();
      var query = new URLSearchParams();
      Object.keys(values).forEach(function (k) { if (values[k]) { query.set(k, values[k]); } });
      results.replaceChildren();
      status.textContent = '';
      var page = new URL(window.location.href);
      ['lookup', 'commune'].concat(s.fields.map(function (f) { return f.name; })).forEach(function (k) { page.searchParams.delete(k); });
      page.searchParams.set('lookup', s.collection);
      query.forEach(function (v, k) { page.searchParams.set(k, v); });
      window.history.replaceState(null, '', page.toString());
      return getJson('/collections/' + encodeURIComponent(s.collection) + '/lookup?' + query.toString()).then(function (found) {
        var features = found.features || [];
        results.setAttribute('data-count', String(features.length));
        if (!features.length) { status.textContent = texts.notFound; return; }
        features.forEach(function (f) {
          var p = f.properties || {};
          var text = s.fields.map(function (x) { return p[x.name]; }).join('/');
          var unit = s.commune ? p[s.commune] + ' ' : '';
          var button = element('button', { type: 'button' }, [unit + text + ' (#' + f.id + ')']);
          button.addEventListener('click', function () { show(s, f); });
          results.append(element('li', {}, [button]));
        });
        show(s, features[0]);
      }).catch(function (e) { results.setAttribute('data-count', '0'); status.textContent = String(e.message || e); });
    }
    select.addEventListener('change', function () { render({}); });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var values = {};
      holder.querySelectorAll('input').forEach(function (i) { values[i.name] = i.value.trim(); });
      run(values);
    });
    if (config.lookup) {
      select.value = config.lookup.collection;
      render(config.lookup.values);
      return run(config.lookup.values);
    }
    render({});
  }

  // A package's tiles.pmtiles opened from disk (the `pmtiles` protocol, served by this server
  // like MapLibre): each of its vector layers drawn with the style of the collection it is named
  // after (or a plain one), above the server's layers, and the map fitted to its bounds.
  function wirePackage(map, style) {
    var input = document.getElementById('pmtiles-file');
    if (!input || typeof pmtiles === 'undefined') { return; }
    var protocol = new pmtiles.Protocol();
    maplibregl.addProtocol('pmtiles', protocol.tile);
    var opened = 0;
    input.addEventListener('change', function () {
      var file = input.files && input.files[0];
      if (!file) { return; }
      opened += 1;
      var source = 'package-' + opened;
      var archive = new pmtiles.PMTiles(new pmtiles.FileSource(file));
      protocol.add(archive);
      window.geosector.packageReady = Promise.all([archive.getHeader(), archive.getMetadata()]).then(function (parts) {
        var header = parts[0];
        var metadata = parts[1] || {};
        map.addSource(source, { type: 'vector', url: 'pmtiles://' + file.name });
        var added = [];
        (metadata.vector_layers || []).forEach(function (layer) {
          var styled = style.layers.filter(function (l) { return collectionOf(l) === layer.id && l['source-layer']; });
          if (!styled.length) {
            styled = [{ id: layer.id, type: 'line', paint: { 'line-color': '#d81b60', 'line-width': 1.5 } }];
          }
          styled.forEach(function (l) {
            var copy = JSON.parse(JSON.stringify(l));
            copy.id = source + ':' + l.id;
            copy.source = source;
            copy['source-layer'] = layer.id;
            copy.metadata = Object.assign({}, copy.metadata, { 'geosector:package': layer.id });
            map.addLayer(copy);
            added.push(copy.id);
          });
        });
        input.setAttribute('data-layers', added.join(' '));
        map.fitBounds([[header.minLon, header.minLat], [header.maxLon, header.maxLat]], { padding: 24, animate: false });
        return { source: source, layers: added, metadata: metadata };
      });
      window.geosector.packageReady.catch(function (e) { status.textContent = texts.packageError + ': ' + String(e.message || e); });
    });
  }

  window.geosector = {};
  var ready = Promise.all(config.sectors.map(function (s) {
    return fetch('/styles/' + encodeURIComponent(s.id)).then(function (r) {
      if (!r.ok) { throw new Error(texts.styleError + ' ' + s.id + ' (' + r.status + ')'); }
      return r.json();
    });
  })).then(function (styles) {
    var combined = combine(styles);
    var options = { container: 'map', style: combined.style, hash: true, maxZoom: 22, attributionControl: { compact: true } };
    if (combined.bounds && !/^#\d/.test(window.location.hash)) {
      options.bounds = combined.bounds;
      options.fitBoundsOptions = { padding: 24, maxZoom: 17 };
    } else if (!combined.bounds) {
      options.center = [106.0, 16.0];
      options.zoom = 5;
      status.textContent = texts.noData;
    }
    var map = new maplibregl.Map(options);
    map.addControl(new maplibregl.NavigationControl(), 'top-right');
    map.addControl(new maplibregl.ScaleControl(), 'bottom-right');
    renderLegend(combined.style);
    var ours = combined.style.layers.filter(collectionOf).map(function (l) { return l.id; });

    var toggle = document.getElementById('labels-toggle');
    var labels = drawLabels(map, combined.style, function () { return !toggle || toggle.checked; });
    if (toggle) { toggle.addEventListener('change', labels); }

    document.querySelectorAll('input[data-collection]').forEach(function (box) {
      box.addEventListener('change', function () {
        var id = box.getAttribute('data-collection');
        combined.style.layers.forEach(function (l) {
          if (collectionOf(l) === id) { map.setLayoutProperty(l.id, 'visibility', box.checked ? 'visible' : 'none'); }
        });
        labels();
      });
    });

    map.on('click', function (e) {
      var hits = map.queryRenderedFeatures(e.point, { layers: ours });
      if (hits.length) { showFeature(map, hits[0], e.lngLat); }
    });
    map.on('mousemove', function (e) {
      map.getCanvas().style.cursor = map.queryRenderedFeatures(e.point, { layers: ours }).length ? 'pointer' : '';
    });
    wirePackage(map, combined.style);
    window.geosector.map = map;
    return new Promise(function (resolve) { map.once('load', function () { resolve(map); }); }).then(function (map) {
      // A shared lookup runs once the map is there; `ready` waits for it.
      return Promise.resolve(wireLookup(map)).then(function () { return map; });
    });
  });
  ready.catch(function (e) { status.textContent = String(e.message || e); });
  window.geosector.ready = ready;
})();
