/* The live dashboard page, one self-contained HTML document served from
 * memory at GET / (no external assets, no build step). */
#ifndef PLBA_MASTER_DASHBOARD_H
#define PLBA_MASTER_DASHBOARD_H

extern const char dashboard_html[];

#endif
