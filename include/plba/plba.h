/* The umbrella header of libplba: include this one. */
#ifndef PLBA_PLBA_H
#define PLBA_PLBA_H

#include <plba/version.h>
#include <plba/error.h>
#include <plba/config.h>
#include <plba/worker.h>
#include <plba/task.h>
#include <plba/module.h>
#include <plba/runtime.h>
#include <plba/trace.h>

#endif
