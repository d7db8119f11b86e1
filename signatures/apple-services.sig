# apple-services.sig - Apple service names, grouped by service.
#
# Main source: Apple's "Use Apple products on enterprise networks"
# (support.apple.com/en-us/101555, formerly HT210060), section by section;
# the section is named above each group. Entries marked "unconfirmed" are
# not on that list: they come from observed traffic or other Apple pages
# and should be checked against current DNS before being relied on.
#
# Matching rules (see README.md in this folder): `domain X` matches X and
# every name under it, `host X` only X itself; the longest match wins, so
# the catch-alls at the end only apply where nothing more precise does.
# Third-party names on Apple's list (DigiCert and Entrust OCSP/CRL hosts,
# cp4.cloudflare.com) are left out on purpose: every operating system uses
# them, so they say nothing about Apple devices.

# ---- activation: Device setup ---------------------------------------------
domain albert.apple.com               activation       # device activation
domain humb.apple.com                 activation       # setup; also Tap to Pay and ID Verifier setup
domain static.ips.apple.com           activation
domain sq-device.apple.com            activation       # eSIM activation
domain tbsc.apple.com                 activation

# ---- captive-portal: Device setup -----------------------------------------
domain captive.apple.com              captive-portal   # internet connectivity validation
# unconfirmed: captive-network probe names of older iOS releases
host www.appleiphonecell.com          captive-portal
host www.itools.info                  captive-portal
host www.ibook.info                   captive-portal
host www.airport.us                   captive-portal
host www.thinkdifferent.us            captive-portal

# ---- time: Device setup (NTP, UDP 123) -------------------------------------
domain time.apple.com                 time
domain time-ios.apple.com             time
domain time-macos.apple.com           time
# unconfirmed: regional NTP names used by older macOS releases
domain time.euro.apple.com            time
domain time.asia.apple.com            time

# ---- mdm: Device management; Apple School/Business Manager; Apple Business
# ---- Essentials device management ------------------------------------------
domain deviceenrollment.apple.com     mdm              # DEP provisional enrollment
domain deviceservices-external.apple.com mdm           # device services (Activation Lock)
domain identity.apple.com             mdm              # APNs certificate request portal
domain iprofiles.apple.com            mdm              # Automated Device Enrollment profiles
domain mdmenrollment.apple.com        mdm              # ADE device and account lookup
domain vpp.itunes.apple.com           mdm              # Apps and Books for MDM
domain business.apple.com             mdm              # Apple Business Manager
domain school.apple.com               mdm              # Apple School Manager (ws.school.apple.com too)
domain api.ent.apple.com              mdm              # Apps and Books (business)
domain api.edu.apple.com              mdm              # Apps and Books (education)
domain ws-ee-maidsvc.icloud.com       mdm              # Managed Apple Account lookup
domain appleschoolcontent.com         mdm              # SFTP uploads to Apple School Manager
domain axm-adm-enroll.apple.com       mdm              # Business Essentials enrollment
domain axm-adm-mdm.apple.com          mdm              # Business Essentials MDM
domain axm-adm-scep.apple.com         mdm              # Business Essentials SCEP
domain axm-app.apple.com              mdm              # Business Essentials apps and devices
domain axm-usercontent-apple.com      mdm              # custom package icons
# unconfirmed: account-driven enrollment discovery, Apple Configurator MDM,
# Apple Business API
domain axm-servicediscovery.apple.com mdm
domain acmdm.apple.com                mdm
domain api-business.apple.com         mdm
# Classroom and Schoolwork handout and roster services: education tools,
# not device management; named so they do not fall under itunes.apple.com.
domain pg-bootstrap.itunes.apple.com  apple
domain cls-iosclient.itunes.apple.com apple
domain cls-ingest.itunes.apple.com    apple

# ---- push: Apple Push Notifications ----------------------------------------
# courier.push.apple.com, N-courier.push.apple.com (devices, TCP 5223/443),
# api.push.apple.com (providers, TCP 443/2197), *.sandbox.push.apple.com.
domain push.apple.com                 push

# ---- software-update: Software updates; Carrier updates; Beta updates ------
domain appldnld.apple.com             software-update  # iOS and watchOS updates, carrier bundles
domain configuration.apple.com        software-update  # Rosetta updates
domain gdmf.apple.com                 software-update  # update catalogues; also MDM managed updates
domain mesu.apple.com                 software-update  # update catalogues
domain gg.apple.com                   software-update
domain gs.apple.com                   software-update  # install/restore personalisation (also Device setup)
domain gnf-mdn.apple.com              software-update  # macOS updates
domain gnf-mr.apple.com               software-update
domain ig.apple.com                   software-update
domain skl.apple.com                  software-update
domain swcdn.apple.com                software-update
domain swdist.apple.com               software-update
domain swdownload.apple.com           software-update
domain swscan.apple.com               software-update
domain ns.itunes.apple.com            software-update  # Apple Now Serving service
domain oscdn.apple.com                software-update  # macOS Recovery
domain osrecovery.apple.com           software-update
domain updates.cdn-apple.com          software-update  # update downloads
domain updates-http.cdn-apple.com     software-update
domain xp.apple.com                   software-update  # XProtect updates (and App Store telemetry)
domain bpapi.apple.com                software-update  # beta update enrollment

# ---- appstore: App Store ----------------------------------------------------
# itunes.apple.com carries store content of every kind (apps, books, music:
# buy.itunes.apple.com, pNN-buy.itunes.apple.com, ...); Apple lists it under
# App Store, so it maps there. Streaming and media hosts under it are below.
domain itunes.apple.com               appstore
domain apps.apple.com                 appstore
domain ppq.apple.com                  appstore         # enterprise app validation
# unconfirmed: alternative app marketplaces (EU)
domain apps-marketplace.apple.com     appstore

# ---- cert-validation: Certificate validation --------------------------------
domain certs.apple.com                cert-validation
domain crl.apple.com                  cert-validation
domain ocsp.apple.com                 cert-validation
domain ocsp2.apple.com                cert-validation
domain valid.apple.com                cert-validation

# ---- apple-id: Apple Account ------------------------------------------------
domain appleid.apple.com              apple-id
domain appleid.cdn-apple.com          apple-id
domain idmsa.apple.com                apple-id
domain gsa.apple.com                  apple-id
# unconfirmed: account pages, password reset, GrandSlam authentication
domain account.apple.com              apple-id
domain iforgot.apple.com              apple-id
domain gsas.apple.com                 apple-id

# ---- icloud: iCloud ----------------------------------------------------------
domain icloud.com                     icloud           # also gateway.icloud.com, statici.icloud.com
domain icloud.com.cn                  icloud           # iCloud in China
domain apzones.com                    icloud           # iCloud in China
domain icloud-content.com             icloud
domain apple-cloudkit.com             icloud           # CloudKit (also app notarization)
domain apple-livephotoskit.com        icloud
domain mediaservices.cdn-apple.com    icloud
domain iwork.apple.com                icloud           # iWork documents
host   match.gc.apple.com             icloud           # listed by Apple under iCloud
# Apple lists setup.icloud.com under Device management (Shared iPad), but
# every device signing in to iCloud uses it: it stays iCloud.
domain setup.icloud.com               icloud
domain me.com                         icloud           # older iCloud mail and services
domain mac.com                        icloud

# ---- private-relay: iCloud Private Relay -------------------------------------
domain mask.icloud.com                private-relay
domain mask-h2.icloud.com             private-relay
domain mask-api.icloud.com            private-relay
# unconfirmed
domain mask-canary.icloud.com         private-relay

# ---- siri: Apple Intelligence, Siri and Search ------------------------------
domain guzzoni.apple.com              siri             # Siri and dictation
domain smoot.apple.com                siri             # Search, Spotlight (api.smoot.apple.com)
# Private Cloud Compute relays; Apple-specific names on CDN domains.
host apple-relay.cloudflare.com       siri
host apple-relay.fastly-edge.com      siri

# ---- maps: Maps and location ---------------------------------------------------
domain apple-mapkit.com               maps             # MapKit; also Managed Lost Mode
# unconfirmed: map tiles and search (gsp*-ssl.ls.apple.com, ...), Maps
# website, location services
domain ls.apple.com                   maps
domain maps.apple.com                 maps
domain mapsconnect.apple.com          maps
domain gs-loc.apple.com               maps

# ---- messaging: iMessage and FaceTime --------------------------------------------
# unconfirmed (not on the enterprise list): Apple identity services used to
# register and look up iMessage and FaceTime addresses (query.ess.apple.com,
# init.ess.apple.com, profile.ess.apple.com, ...).
domain ess.apple.com                  messaging

# ---- media: TV, Music, iTunes, Podcasts, Books, News ---------------------------
domain music.apple.com                media
domain tv.apple.com                   media
domain podcasts.apple.com             media
domain books.apple.com                media
domain play.itunes.apple.com          media            # playback; Apple lists it for Classroom
domain itunes.com                     media            # Apple also lists it for carrier update discovery
domain applemusic.com                 media
domain apple.news                     media
# unconfirmed: Apple Music streaming, Shazam (owned by Apple)
domain aod.itunes.apple.com           media
domain shazam.com                     media

# ---- apple: other services on Apple's list ---------------------------------------
domain lcdn-registration.apple.com    apple            # content caching
domain lcdn-locator.apple.com         apple
domain suconfig.apple.com             apple
domain xp-cdn.apple.com               apple
domain serverstatus.apple.com         apple
domain appattest.apple.com            apple            # app validation, Face ID / Touch ID for websites
domain cssubmissions.apple.com        apple            # Feedback Assistant
domain fba.apple.com                  apple
domain diagassets.apple.com           apple            # hardware diagnostics
domain doh.dns.apple.com              apple            # DNS over HTTPS
domain pos-device.apple.com           apple            # Tap to Pay on iPhone
domain phonesubmissions.apple.com     apple
domain smp-device-content.apple.com   apple            # ID Verifier
domain idv.cdn-apple.com              apple
domain idv-prod1.apple.com            apple
domain app-site-association.cdn-apple.com apple        # associated domains
domain app-site-association.networking.apple apple
domain audiocontentdownload.apple.com apple            # GarageBand / Logic content
domain devimages-cdn.apple.com        apple            # Xcode components
domain download.developer.apple.com   apple
domain playgrounds-assets-cdn.apple.com apple          # Swift Playgrounds
domain playgrounds-cdn.apple.com      apple
domain sylvan.apple.com               apple            # aerial screen savers

# ---- apple: catch-alls (Apple's own domains) --------------------------------------
domain apple.com                      apple
domain apple                          apple            # the .apple top-level domain
domain apple.com.cn                   apple            # Apple China
