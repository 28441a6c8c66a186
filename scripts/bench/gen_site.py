#!/usr/bin/env python3
"""Generates the benchmark shop of issue 9: PAGES static pages of 30-80 KB.

Usage: gen_site.py OUT_DIR [PAGES] [SEED]

Page 0 is `/`. Pages form a breadth-first tree with fan-out 10 (page i links to
pages 10*i+1 .. 10*i+10), so a crawl from `/` with max_pages = PAGES reaches every
page; each page also links to the 10 top categories (the nav) and to a few other
pages (cross links). Every link stays on the site, so a crawl bounded by
max_pages = PAGES audits exactly the generated pages.

Every page carries the Insider snippet (queue, user push, page-type push, init)
and loads the stand-in SDK `/ins.js` async; the SDK sends a beacon to `/beacon`
100 ms after it loads. Product pages fetch `/api/recommendations` 50 ms after the
load event. Some pages run a carousel `setInterval` (3 s) or an animation-frame
loop forever. A few pages plant defects (see DEFECTS). Output is deterministic
for a given PAGES and SEED.

Variants (environment): GEN_HEAVY=1 gives every page 1,000 more links (to
other generated pages) and 200 more pushes (`{type: 'event'}`), the memory
benchmark's worst case; GEN_SLOW=1 adds `/slow`, linked from `/`, which
serve.py answers after 8 s (a slow page in the middle of a crawl).

Writes OUT_DIR/<path>.html for each page (OUT_DIR/index.html for `/`), the
static assets, and OUT_DIR/manifest.json (every page's path, type and defect).
"""

import json
import os
import random
import sys

FANOUT = 10
WORDS = (
    "cotton linen organic classic slim relaxed everyday premium summer winter soft "
    "breathable durable lightweight handmade recycled vintage modern essential casual "
    "tailored stretch waterproof warm cosy bold minimal natural fresh bright deep "
    "shirt dress jacket sneaker boot scarf bag belt sweater hoodie trouser skirt coat "
    "blouse sandal cap glove sock watch lamp vase mug towel pillow blanket rug chair "
    "delivery returns quality design comfort style colour fabric stitching pocket "
    "collar sleeve hem fit size guide care washing label origin warehouse collection"
).split()
CATEGORY_NAMES = [
    "Women", "Men", "Kids", "Shoes", "Bags", "Home", "Beauty", "Sport", "Sale", "New in",
]
# Planted defects: page index modulo -> (defect name, description). Page 0 never.
DEFECTS = {
    "optin-string": "whatsapp_optin sent as the string \"true\" (attr-type)",
    "init-missing": "no {type:'init'} push (init-missing)",
    "phone-national": "phone_number not in E.164 form (attr-format)",
}


def page_type(i):
    if i == 0:
        return "home"
    if i <= FANOUT:
        return "category"
    return ("product", "product", "product", "other", "category")[i % 5]


def page_path(i):
    kind = page_type(i)
    if kind == "home":
        return "/"
    prefix = {"category": "/c/", "product": "/p/", "other": "/a/"}[kind]
    return f"{prefix}{i}"


def defect_of(i):
    if i == 0:
        return None
    if i % 97 == 13:
        return "optin-string"
    if i % 89 == 7:
        return "init-missing"
    if i % 113 == 29:
        return "phone-national"
    return None


def timers_of(i):
    """Recurring work on some pages: a carousel interval, an animation loop."""
    out = []
    if i % 7 == 3:
        out.append("carousel")
    if i % 11 == 5:
        out.append("raf")
    return out


def words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def title(rng):
    return " ".join(w.capitalize() for w in (rng.choice(WORDS) for _ in range(3)))


def snippet(i, kind, defect):
    user = {"language": "en_US", "gdpr_optin": True}
    if defect == "optin-string":
        user["whatsapp_optin"] = "true"
    if defect == "phone-national":
        user["phone_number"] = "0532 123 45 67"
    page_push = {"type": kind}
    if kind == "product":
        page_push["value"] = {
            "id": f"SKU-{i}", "name": f"Product {i}", "price": round(10 + (i % 90) * 1.25, 2),
            "currency": "USD", "url": page_path(i),
        }
    elif kind == "category":
        page_push["value"] = {"name": CATEGORY_NAMES[i % len(CATEGORY_NAMES)]}
    lines = [
        "window.InsiderQueue = window.InsiderQueue || [];",
        "window.InsiderQueue.push({type:'user', value:%s});" % json.dumps(user),
        "window.InsiderQueue.push(%s);" % json.dumps(page_push),
    ]
    if defect != "init-missing":
        lines.append("window.InsiderQueue.push({type:'init'});")
    return "\n".join(lines)


def product_card(rng, target, pages):
    name = title(rng)
    price = rng.randint(9, 299)
    img = rng.randint(0, 19)
    return (
        f'<li class="card"><a href="{page_path(target)}">'
        f'<img src="/img/p{img}.svg" width="160" height="200" alt="{name}">'
        f"<h3>{name}</h3></a>"
        f'<p class="price">${price}.{rng.randint(0, 99):02d}</p>'
        f'<p class="blurb">{words(rng, rng.randint(8, 18))}</p>'
        f'<button type="button" class="add" data-sku="SKU-{target}">Add to bag</button></li>'
    )


def build_page(i, pages, rng):
    kind = page_type(i)
    defect = defect_of(i)
    timers = timers_of(i)
    target_size = rng.randint(30_000, 80_000)
    children = [c for c in range(FANOUT * i + 1, FANOUT * i + FANOUT + 1) if c < pages]
    cross = [rng.randrange(pages) for _ in range(4)]
    head = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title(rng)} | Bench shop</title>
<link rel="stylesheet" href="/style.css">
<script>
{snippet(i, kind, defect)}
</script>
<script async src="/ins.js"></script>
</head>
<body class="{kind}">
<header>
<a class="logo" href="/"><img src="/img/logo.svg" width="120" height="32" alt="Bench shop"></a>
<nav><ul>
{''.join(f'<li><a href="{page_path(c)}">{CATEGORY_NAMES[c - 1]}</a></li>' for c in range(1, min(FANOUT, pages - 1) + 1))}
</ul></nav>
<form class="search" action="/" method="get"><input name="q" placeholder="Search"><button>Go</button></form>
</header>
<main>
<h1>{title(rng)}</h1>
<p class="intro">{words(rng, 40)}</p>
"""
    parts = [head]
    if kind == "product":
        parts.append(
            f'<section class="product"><img src="/img/p{i % 20}.svg" width="480" height="600" alt="">'
            f'<div class="details"><p class="price">${10 + i % 90}.00</p>'
            f'<select name="size"><option>S</option><option>M</option><option>L</option></select>'
            f'<button type="button" id="add">Add to bag</button>'
            f'<p>{words(rng, 80)}</p></div></section>'
            '<section class="recommendations"><h2>You may also like</h2><ul id="recs"></ul></section>'
        )
    if "carousel" in timers:
        parts.append(
            '<section class="carousel"><ul id="slides">'
            + "".join(f'<li class="slide">{title(rng)}</li>' for _ in range(5))
            + "</ul></section>"
        )
    # The tree links (children) and cross links, as a product grid.
    links = children + cross
    parts.append('<section class="grid"><h2>Featured</h2><ul class="cards">')
    for target in links:
        parts.append(product_card(rng, target, pages))
    parts.append("</ul></section>")
    # Fill to the target size with text and more cards that link to the same pages.
    body_tail = f"""
</main>
<footer>
<ul><li><a href="{page_path(min(1, pages - 1))}">Shop</a></li><li><a href="/">Home</a></li></ul>
<p>{words(rng, 30)}</p>
</footer>
{scripts(i, kind, timers)}{heavy(i, pages)}
</body>
</html>
"""
    size = sum(len(p) for p in parts) + len(body_tail)
    filler = []
    while size < target_size:
        if rng.random() < 0.5 and links:
            chunk = '<ul class="cards more">' + "".join(
                product_card(rng, rng.choice(links), pages) for _ in range(4)) + "</ul>"
        else:
            chunk = f"<h2>{title(rng)}</h2><p>{words(rng, rng.randint(60, 160))}</p>"
        filler.append(chunk)
        size += len(chunk)
    parts.append('<section class="content">' + "\n".join(filler) + "</section>")
    parts.append(body_tail)
    return "".join(parts), kind, defect, timers


def heavy(i, pages):
    """GEN_HEAVY=1: 1,000 more links and 200 more pushes on the page."""
    if os.environ.get("GEN_HEAVY") != "1":
        return ""
    links = "".join(
        f'<a href="{page_path((i * 31 + k * 7) % pages)}">more {k}</a> ' for k in range(1000))
    pushes = (
        "<script>\n(function () {\n"
        "  for (var k = 0; k < 200; k++) {\n"
        "    window.InsiderQueue.push({type: 'event', value: {name: 'impression', position: k}});\n"
        "  }\n})();\n</script>")
    return f'<footer class="more">{links}</footer>\n{pushes}'


def scripts(i, kind, timers):
    out = []
    if kind == "product":
        out.append(
            "<script>\n"
            "window.addEventListener('load', function () {\n"
            "  setTimeout(function () {\n"
            f"    fetch('/api/recommendations?product={i}').then(function (r) {{ return r.json(); }})\n"
            "      .then(function (items) {\n"
            "        var ul = document.getElementById('recs');\n"
            "        items.forEach(function (it) {\n"
            "          var li = document.createElement('li');\n"
            "          li.textContent = it.name + ' $' + it.price;\n"
            "          ul.appendChild(li);\n"
            "        });\n"
            "      }).catch(function () {});\n"
            "  }, 50);\n"
            "});\n"
            "</script>"
        )
    if "carousel" in timers:
        out.append(
            "<script>\n"
            "(function () {\n"
            "  var n = 0;\n"
            "  setInterval(function () {\n"
            "    var slides = document.querySelectorAll('#slides .slide');\n"
            "    n = (n + 1) % slides.length;\n"
            "    for (var k = 0; k < slides.length; k++) slides[k].style.opacity = k === n ? '1' : '0.3';\n"
            "  }, 3000);\n"
            "})();\n"
            "</script>"
        )
    if "raf" in timers:
        out.append(
            "<script>\n"
            "(function () {\n"
            "  var el = document.querySelector('h1');\n"
            "  function frame(t) {\n"
            "    el.style.letterSpacing = (Math.sin(t / 500) * 0.5).toFixed(2) + 'px';\n"
            "    requestAnimationFrame(frame);\n"
            "  }\n"
            "  requestAnimationFrame(frame);\n"
            "})();\n"
            "</script>"
        )
    return "\n".join(out)


INS_JS = r"""/*
 * Stand-in for Insider One's ins.js (a copy of the demo's, src/demo/site/ins.js),
 * plus what the benchmark needs from a real SDK: a beacon to /beacon 100 ms after
 * it loads.
 */
(function () {
  var queue = window.InsiderQueue = window.InsiderQueue || [];
  var user = null; // the SDK's own copy of the user
  var received = [];
  function describe(v, depth, seen) {
    if (v === null) return 'null';
    if (typeof v === 'string') return '"' + (v.length > 200 ? v.slice(0, 200) + '…' : v) + '"';
    if (typeof v !== 'object') return typeof v === 'function' ? 'function' : String(v);
    if (depth > 4) return '…';
    for (var s = 0; s < seen.length; s++) if (seen[s] === v) return '<cycle>';
    seen[seen.length] = v;
    var isList = Array.isArray(v);
    var parts = [];
    for (var key in v) {
      var item;
      try { item = describe(v[key], depth + 1, seen); } catch (e) { item = '<threw>'; }
      parts[parts.length] = (isList ? '' : key + ':') + item;
    }
    seen.length -= 1;
    return (isList ? '[' : '{') + parts.join(',') + (isList ? ']' : '}');
  }
  function take(entry) {
    var text;
    try { text = describe(entry, 0, []); } catch (e) { text = '<unreadable>'; }
    received[received.length] = text;
    if (!entry || entry.type !== 'user') return;
    var value = entry.value;
    if (!value || typeof value !== 'object' || Array.isArray(value)) return;
    user = user || {};
    for (var key in value) {
      if (value[key] !== undefined) user[key] = value[key];
    }
    queue.user = user;
  }
  for (var i = 0; i < queue.length; i++) take(queue[i]);
  queue.push = function () {
    for (var j = 0; j < arguments.length; j++) take(arguments[j]);
    return Array.prototype.push.apply(queue, arguments);
  };
  window.Insider = { version: 'stand-in', user: function () { return user; }, received: received };
  setTimeout(function () {
    var body = JSON.stringify({ page: location.pathname, events: received.length });
    if (navigator.sendBeacon && navigator.sendBeacon('/beacon', body)) return;
    fetch('/beacon', { method: 'POST', body: body, keepalive: true }).catch(function () {});
  }, 100);
})();
"""

STYLE_CSS = """
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#222}
header{display:flex;align-items:center;gap:2rem;padding:1rem 2rem;border-bottom:1px solid #ddd}
nav ul{display:flex;gap:1rem;list-style:none;margin:0;padding:0}nav a{color:#222;text-decoration:none}
main{max-width:1200px;margin:0 auto;padding:1rem 2rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:1rem;list-style:none;padding:0}
.card{border:1px solid #eee;padding:.5rem;border-radius:4px}.card h3{font-size:1rem;margin:.5rem 0}
.price{font-weight:bold}.blurb{font-size:.85rem;color:#555}
.product{display:flex;gap:2rem}.carousel ul{display:flex;gap:1rem;list-style:none}
.slide{flex:1;padding:3rem;background:#f4f4f4;transition:opacity .5s}
footer{padding:2rem;background:#222;color:#ddd}footer a{color:#fff}
"""


def svg(n):
    hue = (n * 37) % 360
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="200" viewBox="0 0 160 200">'
        f'<rect width="160" height="200" fill="hsl({hue},40%,85%)"/>'
        f'<circle cx="80" cy="90" r="40" fill="hsl({hue},50%,60%)"/>'
        f'<text x="80" y="180" text-anchor="middle" font-size="14">#{n}</text></svg>'
    )


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    pages = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 9
    if pages < 1:
        sys.exit("PAGES must be at least 1")
    rng = random.Random(seed)
    manifest = []
    total = 0
    for i in range(pages):
        html, kind, defect, timers = build_page(i, pages, rng)
        path = page_path(i)
        file = os.path.join(out, "index.html" if path == "/" else path.lstrip("/") + ".html")
        os.makedirs(os.path.dirname(file), exist_ok=True)
        with open(file, "w", encoding="utf-8") as f:
            f.write(html)
        total += len(html.encode("utf-8"))
        manifest.append({"path": path, "type": kind, "defect": defect, "timers": timers,
                         "bytes": len(html.encode("utf-8"))})
    if os.environ.get("GEN_SLOW") == "1":
        # /slow: a copy of page 1, linked from `/`; serve.py answers it after 8 s.
        with open(os.path.join(out, "index.html"), encoding="utf-8") as f:
            index = f.read()
        with open(os.path.join(out, "index.html"), "w", encoding="utf-8") as f:
            f.write(index.replace("</nav>", '<a href="/slow">slow</a></nav>', 1))
        first = page_path(min(1, pages - 1))
        source = os.path.join(out, "index.html" if first == "/" else first.lstrip("/") + ".html")
        with open(source, encoding="utf-8") as f:
            slow = f.read()
        with open(os.path.join(out, "slow.html"), "w", encoding="utf-8") as f:
            f.write(slow)
    with open(os.path.join(out, "ins.js"), "w", encoding="utf-8") as f:
        f.write(INS_JS)
    with open(os.path.join(out, "style.css"), "w", encoding="utf-8") as f:
        f.write(STYLE_CSS)
    os.makedirs(os.path.join(out, "img"), exist_ok=True)
    for n in range(20):
        with open(os.path.join(out, "img", f"p{n}.svg"), "w", encoding="utf-8") as f:
            f.write(svg(n))
    with open(os.path.join(out, "img", "logo.svg"), "w", encoding="utf-8") as f:
        f.write('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="32">'
                '<text x="0" y="24" font-size="22" font-weight="bold">Bench shop</text></svg>')
    with open(os.path.join(out, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump({"pages": manifest, "seed": seed}, f, indent=1)
    defects = sum(1 for m in manifest if m["defect"])
    print(f"generated {pages} pages ({total / 1e6:.1f} MB, "
          f"{min(m['bytes'] for m in manifest) // 1000}-{max(m['bytes'] for m in manifest) // 1000} KB each), "
          f"{sum(1 for m in manifest if m['type'] == 'product')} product pages, "
          f"{sum(1 for m in manifest if m['timers'])} with recurring timers, "
          f"{defects} with planted defects, in {out}")


if __name__ == "__main__":
    main()
