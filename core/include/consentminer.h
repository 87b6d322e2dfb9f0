/* consentminer — the whole public C API of the portable core. */
#ifndef CONSENTMINER_H
#define CONSENTMINER_H
#include "consentminer/error.h"
#include "consentminer/hex.h"
#include "consentminer/job.h"
#include "consentminer/target.h"
#include "consentminer/nonce.h"
#include "consentminer/consent.h"
#include "consentminer/throttle.h"
#include "consentminer/stats.h"
#include "consentminer/hasher.h"
#endif
