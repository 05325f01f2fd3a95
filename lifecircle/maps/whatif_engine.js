/* lifecircle what-if engine: the walk of `lifecircle analyze`, in the browser.
 *
 * Reads the payload written by lifecircle/maps/whatif_data.py. A point joins the nearest point of the nearest
 * street segment (straight access walk counted), reaches the two junctions of that segment's chain at costs read
 * along the chain, and a search bounded by the walking limit runs backwards over the junction graph from a
 * service; origins on the same chain may also walk straight along it. Exposes LCWhatIfEngine(payload) -> a
 * Promise of the engine.
 * No DOM here.
 */
(function () {
  "use strict";
  var ZERO_COST = 1e-9;

  /* One packed array: base64 of zlib-compressed little-endian bytes (Python's zlib.compress), unpacked by the
     browser's own DecompressionStream. Resolves to a typed array. */
  function decode(spec) {
    var bin = atob(spec.b);
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer().then(function (buf) {
      switch (spec.t) {
        case "f8": return new Float64Array(buf, 0, spec.n);
        case "i4": return new Int32Array(buf, 0, spec.n);
        case "u1": return new Uint8Array(buf, 0, spec.n);
        default: throw new Error("unknown array type " + spec.t);
      }
    });
  }

  function decodeAll(arrays) {
    var names = Object.keys(arrays);
    return Promise.all(names.map(function (name) { return decode(arrays[name]); })).then(function (list) {
      var A = {};
      names.forEach(function (name, k) { A[name] = list[k]; });
      return A;
    });
  }

  /* Transverse Mercator (Krüger series to n^6, after Karney 2011): forward and inverse, millimetre-exact. */
  function makeTM(p) {
    var f = 1 / p.inv_f, n = f / (2 - f), e = Math.sqrt(f * (2 - f));
    var n2 = n * n, n3 = n2 * n, n4 = n3 * n, n5 = n4 * n, n6 = n5 * n;
    var A = p.a_m / (1 + n) * (1 + n2 / 4 + n4 / 64 + n6 / 256);
    var alpha = [0,
      n / 2 - 2 * n2 / 3 + 5 * n3 / 16 + 41 * n4 / 180 - 127 * n5 / 288 + 7891 * n6 / 37800,
      13 * n2 / 48 - 3 * n3 / 5 + 557 * n4 / 1440 + 281 * n5 / 630 - 1983433 * n6 / 1935360,
      61 * n3 / 240 - 103 * n4 / 140 + 15061 * n5 / 26880 + 167603 * n6 / 181440,
      49561 * n4 / 161280 - 179 * n5 / 168 + 6601661 * n6 / 7257600,
      34729 * n5 / 80640 - 3418889 * n6 / 1995840,
      212378941 * n6 / 319334400];
    var beta = [0,
      n / 2 - 2 * n2 / 3 + 37 * n3 / 96 - n4 / 360 - 81 * n5 / 512 + 96199 * n6 / 604800,
      n2 / 48 + n3 / 15 - 437 * n4 / 1440 + 46 * n5 / 105 - 1118711 * n6 / 3870720,
      17 * n3 / 480 - 37 * n4 / 840 - 209 * n5 / 4480 + 5569 * n6 / 90720,
      4397 * n4 / 161280 - 11 * n5 / 504 - 830251 * n6 / 7257600,
      4583 * n5 / 161280 - 108847 * n6 / 3991680,
      20648693 * n6 / 638668800];
    var rad = Math.PI / 180, lon0 = p.lon0_deg * rad, k0 = p.k0;
    function raw(lonDeg, latDeg) {
      var phi = latDeg * rad, lam = lonDeg * rad - lon0;
      var s = Math.sin(phi);
      var t = Math.sinh(Math.atanh(s) - e * Math.atanh(e * s));
      var xi1 = Math.atan2(t, Math.cos(lam));
      var eta1 = Math.atanh(Math.sin(lam) / Math.sqrt(1 + t * t));
      var xi = xi1, eta = eta1;
      for (var j = 1; j <= 6; j++) {
        xi += alpha[j] * Math.sin(2 * j * xi1) * Math.cosh(2 * j * eta1);
        eta += alpha[j] * Math.cos(2 * j * xi1) * Math.sinh(2 * j * eta1);
      }
      return [k0 * A * eta, k0 * A * xi];
    }
    var y00 = raw(p.lon0_deg, p.lat0_deg)[1];
    function forward(lonDeg, latDeg) {
      var r = raw(lonDeg, latDeg);
      return [p.x0_m + r[0], p.y0_m + r[1] - y00];
    }
    function inverse(x, y) {
      var xi = (y - p.y0_m + y00) / (k0 * A), eta = (x - p.x0_m) / (k0 * A);
      var xi1 = xi, eta1 = eta;
      for (var j = 1; j <= 6; j++) {
        xi1 -= beta[j] * Math.sin(2 * j * xi) * Math.cosh(2 * j * eta);
        eta1 -= beta[j] * Math.cos(2 * j * xi) * Math.sinh(2 * j * eta);
      }
      var sh = Math.sinh(eta1), c = Math.cos(xi1);
      var tau1 = Math.sin(xi1) / Math.sqrt(sh * sh + c * c);
      var lam = Math.atan2(sh, c);
      var tau = tau1, e2 = e * e;
      for (var i = 0; i < 5; i++) {
        var sig = Math.sinh(e * Math.atanh(e * tau / Math.sqrt(1 + tau * tau)));
        var taui = tau * Math.sqrt(1 + sig * sig) - sig * Math.sqrt(1 + tau * tau);
        tau += (tau1 - taui) / Math.sqrt(1 + taui * taui) *
          (1 + (1 - e2) * tau * tau) / ((1 - e2) * Math.sqrt(1 + tau * tau));
      }
      return [(lam + lon0) / rad, Math.atan(tau) / rad];
    }
    return { forward: forward, inverse: inverse };
  }

  function partial(fraction, cost) { return fraction > 0 ? fraction * cost : 0; }

  /* Nearest segment of a point: grid of straight pieces; ties go to the lowest piece, as in Python. */
  function makeSnapper(A, cellM) {
    var vptr = A.seg_vptr, vx = A.vx, vy = A.vy, nSeg = vptr.length - 1;
    var nPiece = 0;
    for (var s = 0; s < nSeg; s++) { nPiece += Math.max(vptr[s + 1] - vptr[s] - 1, 0); }
    var pStart = new Int32Array(nPiece), pSeg = new Int32Array(nPiece), pOffset = new Float64Array(nPiece);
    var segLen = new Float64Array(nSeg);
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity, k = 0;
    for (s = 0; s < nSeg; s++) {
      var along = 0;
      for (var v = vptr[s]; v < vptr[s + 1] - 1; v++) {
        pStart[k] = v; pSeg[k] = s; pOffset[k] = along;
        along += Math.hypot(vx[v + 1] - vx[v], vy[v + 1] - vy[v]);
        k++;
      }
      segLen[s] = along;
    }
    for (var i = 0; i < vx.length; i++) {
      if (vx[i] < minX) { minX = vx[i]; } if (vx[i] > maxX) { maxX = vx[i]; }
      if (vy[i] < minY) { minY = vy[i]; } if (vy[i] > maxY) { maxY = vy[i]; }
    }
    var nx = Math.max(1, Math.ceil((maxX - minX) / cellM) + 1), ny = Math.max(1, Math.ceil((maxY - minY) / cellM) + 1);
    var counts = new Int32Array(nx * ny + 1);
    function cellRange(p) {
      var a = pStart[p];
      var x0 = Math.min(vx[a], vx[a + 1]), x1 = Math.max(vx[a], vx[a + 1]);
      var y0 = Math.min(vy[a], vy[a + 1]), y1 = Math.max(vy[a], vy[a + 1]);
      return [Math.floor((x0 - minX) / cellM), Math.floor((x1 - minX) / cellM),
        Math.floor((y0 - minY) / cellM), Math.floor((y1 - minY) / cellM)];
    }
    var cx, cy, r;
    for (var p = 0; p < nPiece; p++) {
      r = cellRange(p);
      for (cx = r[0]; cx <= r[1]; cx++) { for (cy = r[2]; cy <= r[3]; cy++) { counts[cy * nx + cx + 1]++; } }
    }
    for (i = 1; i < counts.length; i++) { counts[i] += counts[i - 1]; }
    var fill = counts.slice(0, nx * ny), items = new Int32Array(counts[nx * ny]);
    for (p = 0; p < nPiece; p++) {
      r = cellRange(p);
      for (cx = r[0]; cx <= r[1]; cx++) { for (cy = r[2]; cy <= r[3]; cy++) { items[fill[cy * nx + cx]++] = p; } }
    }

    function pieceDistance(p, x, y, out) {
      var a = pStart[p];
      var ax = vx[a], ay = vy[a], abx = vx[a + 1] - ax, aby = vy[a + 1] - ay;
      var apx = x - ax, apy = y - ay;
      var len2 = abx * abx + aby * aby, dot = apx * abx + apy * aby;
      var t = len2 > 0 ? dot / len2 : 0;
      t = t < 0 ? 0 : (t > 1 ? 1 : t);
      var gx = apx - t * abx, gy = apy - t * aby;
      out[0] = Math.sqrt(gx * gx + gy * gy); out[1] = t; out[2] = Math.sqrt(len2);
    }

    /* {segment, fraction, access_m} of the nearest segment within maxM, or null. */
    function snap(x, y, maxM) {
      var gx = Math.floor((x - minX) / cellM), gy = Math.floor((y - minY) / cellM);
      var best = Infinity, bestP = -1, bestT = 0, bestLen = 0, out = [0, 0, 0];
      var rings = Math.ceil(maxM / cellM) + 1;
      for (var ring = 0; ring <= rings; ring++) {
        for (var cx = gx - ring; cx <= gx + ring; cx++) {
          for (var cy = gy - ring; cy <= gy + ring; cy++) {
            if (Math.max(Math.abs(cx - gx), Math.abs(cy - gy)) !== ring) { continue; }
            if (cx < 0 || cy < 0 || cx >= nx || cy >= ny) { continue; }
            var cell = cy * nx + cx;
            for (var q = counts[cell]; q < counts[cell + 1]; q++) {
              var p = items[q];
              pieceDistance(p, x, y, out);
              if (out[0] < best || (out[0] === best && p < bestP)) {
                best = out[0]; bestP = p; bestT = out[1]; bestLen = out[2];
              }
            }
          }
        }
        if (best < ring * cellM) { break; }  /* every piece not looked at is at least ring cells away */
      }
      if (bestP < 0 || !(best <= maxM)) { return null; }
      var seg = pSeg[bestP], total = segLen[seg];
      var frac = total > 0 ? (pOffset[bestP] + bestT * bestLen) / total : 0;
      frac = frac < 0 ? 0 : (frac > 1 ? 1 : frac);
      return { segment: seg, fraction: frac, access_m: best };
    }

    /* The joining point of a snap, in metres. */
    function point(seg, fraction) {
      var target = fraction * segLen[seg], along = 0;
      for (var v = vptr[seg]; v < vptr[seg + 1] - 1; v++) {
        var len = Math.hypot(vx[v + 1] - vx[v], vy[v + 1] - vy[v]);
        if (along + len >= target || v === vptr[seg + 1] - 2) {
          var t = len > 0 ? Math.min(Math.max((target - along) / len, 0), 1) : 0;
          return [vx[v] + t * (vx[v + 1] - vx[v]), vy[v] + t * (vy[v + 1] - vy[v])];
        }
        along += len;
      }
      return [vx[vptr[seg]], vy[vptr[seg]]];
    }
    return { snap: snap, point: point };
  }

  /* Binary min-heap of (cost, junction) pairs, growable typed arrays, lazy deletion. */
  function makeHeap(capacity) {
    var keys = new Float64Array(capacity), vals = new Int32Array(capacity), size = 0;
    function push(k, v) {
      if (size === keys.length) {
        var nk = new Float64Array(size * 2), nv = new Int32Array(size * 2);
        nk.set(keys); nv.set(vals); keys = nk; vals = nv;
      }
      var i = size++;
      while (i > 0) {
        var parent = (i - 1) >> 1;
        if (keys[parent] <= k) { break; }
        keys[i] = keys[parent]; vals[i] = vals[parent]; i = parent;
      }
      keys[i] = k; vals[i] = v;
    }
    function pop(out) {
      out[0] = keys[0]; out[1] = vals[0];
      var k = keys[--size], v = vals[size], i = 0;
      for (;;) {
        var c = 2 * i + 1;
        if (c >= size) { break; }
        if (c + 1 < size && keys[c + 1] < keys[c]) { c++; }
        if (keys[c] >= k) { break; }
        keys[i] = keys[c]; vals[i] = vals[c]; i = c;
      }
      keys[i] = k; vals[i] = v;
    }
    return { push: push, pop: pop, size: function () { return size; }, clear: function () { size = 0; } };
  }

  function makeEngine(payload, A) {
    var tm = makeTM(payload.tm);
    var snapper = makeSnapper(A, 50);
    var cats = payload.categories, nCat = cats.length;
    var nJ = A.j_ptr.length - 1, nO = A.o_comp.length, nC = payload.compound_ids.length;
    var dist = new Float64Array(nJ).fill(Infinity), touched = new Int32Array(nJ), heap = makeHeap(1024);

    /* origins of each compound (CSR) and, per origin, the active services within the limit */
    var cPtr = new Int32Array(nC + 1), cOrig = new Int32Array(nO);
    for (var o = 0; o < nO; o++) { cPtr[A.o_comp[o] + 1]++; }
    for (var c = 0; c < nC; c++) { cPtr[c + 1] += cPtr[c]; }
    var fillC = cPtr.slice(0, nC);
    for (o = 0; o < nO; o++) { cOrig[fillC[A.o_comp[o]]++] = o; }
    var oSvc = [], oWalk = [];
    for (o = 0; o < nO; o++) { oSvc.push([]); oWalk.push([]); }

    function chainAfter(sumArr, beforeArr, costArr, seg) {
      var w = costArr[seg];
      return Math.max(sumArr[A.seg_chain[seg]] - beforeArr[seg] - (isFinite(w) ? w : 0), 0);
    }

    /* Cost from a chain's two junctions to a point attached to segment `seg` (access included). */
    function arriving(seg, frac, access) {
      var ta = A.seg_ufirst[seg] ? frac : 1 - frac;
      var fwd = A.seg_fwd[seg], bwd = A.seg_bwd[seg];
      return [A.seg_fwd_before[seg] + partial(ta, fwd) + access,
        partial(1 - ta, bwd) + chainAfter(A.chain_bwd_sum, A.seg_bwd_before, A.seg_bwd, seg) + access];
    }

    /* Walk straight along the chain from origin o to a destination on the same chain (Python same_chain_walks). */
    function direct(o, dSeg, dFrac, dAccess) {
      var sO = A.o_seg[o], uf = A.seg_ufirst;
      var tO = uf[sO] ? A.o_frac[o] : 1 - A.o_frac[o], tD = uf[dSeg] ? dFrac : 1 - dFrac;
      var same = sO === dSeg;
      var ahead = same ? tD >= tO : A.seg_rank[dSeg] > A.seg_rank[sO];
      var along;
      if (ahead) {
        var fO = A.seg_fwd[sO];
        along = same ? partial(tD - tO, fO) : partial(1 - tO, fO) +
          (A.seg_fwd_before[dSeg] - A.seg_fwd_before[sO] - fO) + partial(tD, A.seg_fwd[dSeg]);
      } else {
        var bO = A.seg_bwd[sO], bD = A.seg_bwd[dSeg];
        along = same ? partial(tO - tD, bO) : partial(tO, bO) +
          (A.seg_bwd_before[sO] - A.seg_bwd_before[dSeg] - bD) + partial(1 - tD, bD);
      }
      return A.o_access[o] + Math.max(along, 0) + dAccess;
    }

    /* Every origin within `limit` metres of a service attached at (seg, frac, access): one bounded search. */
    function pairsOf(seg, frac, access, limit) {
      var chain = A.seg_chain[seg], ends = arriving(seg, frac, access);
      var a = A.chain_a[chain], b = A.chain_b[chain], nTouched = 0, out = [0, 0];
      heap.clear();
      [[a, ends[0]], [b, ends[1]]].forEach(function (src) {
        var d = Math.max(src[1], ZERO_COST);
        if (d <= limit && d < dist[src[0]]) {
          if (dist[src[0]] === Infinity) { touched[nTouched++] = src[0]; }
          dist[src[0]] = d; heap.push(d, src[0]);
        }
      });
      var ptr = A.j_ptr, idx = A.j_idx, cost = A.j_cost;
      while (heap.size() > 0) {
        heap.pop(out);
        var du = out[0], u = out[1];
        if (du > dist[u]) { continue; }
        for (var e = ptr[u]; e < ptr[u + 1]; e++) {
          var v = idx[e], dv = du + cost[e];
          if (dv < dist[v] && dv <= limit) {
            if (dist[v] === Infinity) { touched[nTouched++] = v; }
            dist[v] = dv; heap.push(dv, v);
          }
        }
      }
      var origins = [], walks = [];
      for (var o = 0; o < nO; o++) {
        var sO = A.o_seg[o];
        if (sO < 0) { continue; }
        var w = Math.min(A.o_to_a[o] + dist[A.o_a[o]], A.o_to_b[o] + dist[A.o_b[o]]);
        if (A.seg_chain[sO] === chain) { w = Math.min(w, direct(o, seg, frac, access)); }
        if (w <= limit) { origins.push(o); walks.push(w); }
      }
      for (var i = 0; i < nTouched; i++) { dist[touched[i]] = Infinity; }
      return { origins: origins, walks: walks };
    }

    /* services: existing ones first (positions as in the payload), added ones after */
    var services = [];
    for (var s = 0; s < payload.service_ids.length; s++) {
      var lo = A.p_ptr[s], hi = A.p_ptr[s + 1];
      services.push({
        id: payload.service_ids[s], name: payload.service_names[s], cat: A.s_cat[s], added: false, active: false,
        lon: A.s_lon[s], lat: A.s_lat[s], seg: A.s_seg[s], frac: A.s_frac[s], access: A.s_access[s],
        origins: Array.prototype.slice.call(A.p_origin.subarray(lo, hi)),
        walks: Array.prototype.slice.call(A.p_walk.subarray(lo, hi))
      });
    }
    var byId = new Map();
    services.forEach(function (svc, k) { byId.set(svc.id, k); });
    var best = new Float64Array(nCat * nC).fill(Infinity);
    var changed = new Set();

    function activate(k) {
      var svc = services[k], row = svc.cat * nC;
      svc.active = true;
      for (var i = 0; i < svc.origins.length; i++) {
        var o = svc.origins[i], w = svc.walks[i], c = A.o_comp[o];
        oSvc[o].push(k); oWalk[o].push(w);
        if (w < best[row + c]) { best[row + c] = w; changed.add(c); }
      }
    }

    function deactivate(k) {
      var svc = services[k], row = svc.cat * nC, stale = new Set();
      svc.active = false;
      for (var i = 0; i < svc.origins.length; i++) {
        var o = svc.origins[i], at = oSvc[o].indexOf(k), c = A.o_comp[o];
        oSvc[o].splice(at, 1); oWalk[o].splice(at, 1);
        if (svc.walks[i] <= best[row + c]) { stale.add(c); }
      }
      stale.forEach(function (c) {
        var m = Infinity;
        for (var q = cPtr[c]; q < cPtr[c + 1]; q++) {
          var o = cOrig[q], list = oSvc[o], ws = oWalk[o];
          for (var j = 0; j < list.length; j++) {
            if (services[list[j]].cat === svc.cat && ws[j] < m) { m = ws[j]; }
          }
        }
        if (m !== best[row + c]) { best[row + c] = m; changed.add(c); }
      });
    }

    for (s = 0; s < services.length; s++) {
      if (services[s].seg >= 0) { activate(s); } else { services[s].active = false; }
    }
    var baseline = best.slice();
    changed.clear();
    var nextId = 1;

    function catIndex(category) {
      var k = cats.indexOf(String(category));
      if (k < 0) { throw new Error("unknown category: " + category); }
      return k;
    }

    /* Snap a WGS84 point; null beyond the snap limit. */
    function snapLonLat(lon, lat) {
      var xy = tm.forward(Number(lon), Number(lat));
      if (!isFinite(xy[0]) || !isFinite(xy[1])) { return null; }
      var hit = snapper.snap(xy[0], xy[1], payload.max_snap_m);
      if (hit) { hit.joinLonLat = tm.inverse.apply(null, snapper.point(hit.segment, hit.fraction)); }
      return hit;
    }

    function place(svc, lon, lat) {
      var hit = snapLonLat(lon, lat);
      if (!hit) { return false; }
      var pairs = pairsOf(hit.segment, hit.fraction, hit.access_m, payload.search_m[svc.cat]);
      svc.lon = Number(lon); svc.lat = Number(lat);
      svc.seg = hit.segment; svc.frac = hit.fraction; svc.access = hit.access_m;
      svc.origins = pairs.origins; svc.walks = pairs.walks;
      return true;
    }

    return {
      tm: tm,
      categories: cats,
      nCompounds: nC,
      services: services,
      snapLonLat: snapLonLat,
      /* where walks from compound c start ([lon, lat]) and where each joins its street (null: off the network) */
      originsOf: function (c) {
        var out = [];
        for (var q = cPtr[c]; q < cPtr[c + 1]; q++) {
          var o = cOrig[q];
          out.push({ at: [A.o_lon[o], A.o_lat[o]],
            join: A.o_seg[o] < 0 ? null : tm.inverse.apply(null, snapper.point(A.o_seg[o], A.o_frac[o])) });
        }
        return out;
      },
      joinPoint: function (k) {
        var svc = services[k];
        return svc.seg < 0 ? null : tm.inverse.apply(null, snapper.point(svc.seg, svc.frac));
      },
      originCompounds: A.o_comp,
      originSnapped: Uint8Array.from(A.o_seg, function (seg) { return seg >= 0 ? 1 : 0; }),
      compoundRings: function () {
        var out = [];
        for (var c = 0; c < nC; c++) {
          var rings = [];
          for (var r = A.c_ring_ptr[c]; r < A.c_ring_ptr[c + 1]; r++) {
            var ring = [];
            for (var v = A.ring_ptr[r]; v < A.ring_ptr[r + 1]; v++) { ring.push([A.ring_lat[v], A.ring_lon[v]]); }
            rings.push(ring);
          }
          out.push(rings);
        }
        return out;
      },
      streetLines: function () {
        var out = [], vptr = A.seg_vptr;
        for (var seg = 0; seg + 1 < vptr.length; seg++) {
          var line = [];
          for (var v = vptr[seg]; v < vptr[seg + 1]; v++) {
            var ll = tm.inverse(A.vx[v], A.vy[v]);
            line.push([ll[1], ll[0]]);
          }
          out.push(line);
        }
        return out;
      },
      /* add a service; returns its index, or -1 beyond the snap limit */
      add: function (lon, lat, category) {
        var svc = { id: "new-" + nextId, name: "", cat: catIndex(category), added: true, active: false };
        if (!place(svc, lon, lat)) { return -1; }
        nextId++;
        services.push(svc);
        byId.set(svc.id, services.length - 1);
        activate(services.length - 1);
        return services.length - 1;
      },
      /* move an added service; false (and nothing changed) beyond the snap limit */
      move: function (k, lon, lat) {
        var svc = services[k];
        if (!snapLonLat(lon, lat)) { return false; }
        deactivate(k);
        place(svc, lon, lat);
        activate(k);
        return true;
      },
      remove: function (k) { if (services[k].active) { deactivate(k); } },
      restore: function (k) { if (!services[k].active && services[k].seg >= 0) { activate(k); } },
      index: function (id) { return byId.has(String(id)) ? byId.get(String(id)) : -1; },
      /* walk in metres of compound c for category row k (-1: all), Infinity beyond the search distance */
      walk: function (k, c, base) {
        var src = base ? baseline : best;
        if (k >= 0) { return src[k * nC + c]; }
        var m = Infinity;
        for (var j = 0; j < nCat; j++) { m = Math.min(m, src[j * nC + c]); }
        return m;
      },
      takeChanged: function () { var out = Array.from(changed); changed.clear(); return out; }
    };
  }

  /* The engine of a payload, once its arrays are unpacked (a Promise); null without DecompressionStream. */
  window.LCWhatIfEngine = function (payload) {
    if (typeof DecompressionStream === "undefined") { return null; }
    return decodeAll(payload.arrays).then(function (A) { return makeEngine(payload, A); });
  };
})();
