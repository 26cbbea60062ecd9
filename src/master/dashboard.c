#include "config.h"

#include "dashboard.h"

const char dashboard_html[] =
"<!doctype html><html><head><meta charset=\"utf-8\"><title>PLBA</title></head>"
"<body><h1>PLBA</h1><pre id=\"s\"></pre><script>"
"async function r(){const x=await fetch('/status');"
"document.getElementById('s').textContent=JSON.stringify(await x.json(),null,2)}"
"r();setInterval(r,2000);</script></body></html>\n";
