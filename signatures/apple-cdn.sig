# apple-cdn.sig - Apple's content-delivery names: the CNAME targets that
# Apple service names resolve through, and Apple's own CDN domains.
#
# A DNS answer often reaches a client only as the last name of a CNAME
# chain (for example captive.apple.com -> ... .akadns.net -> ... aaplimg.com),
# and TLS SNI never carries these, so they matter for DNS-based matching.
# The Akamai zones below hold names for many customers; only the
# Apple-specific subtrees are listed, never edgekey.net or akadns.net as a
# whole. Entries marked "unconfirmed" were seen in resolutions but are not
# documented by Apple.

# ---- Apple-operated CDN and DNS domains ------------------------------------------
domain aaplimg.com                    apple            # Apple CDN (*.v.aaplimg.com, *.g.aaplimg.com)
domain apple-dns.net                  apple            # Apple global traffic management
domain cdn-apple.com                  apple            # Apple CDN (updates, idv, ... are in apple-services.sig)
domain mzstatic.com                   appstore         # App Store content (Apple's list: App Store)

# ---- Akamai names carrying Apple services ---------------------------------------------
domain apple.com.edgekey.net          apple
domain apple.com.edgesuite.net        apple
domain apple.com.akadns.net           apple
domain icloud.com.akadns.net          icloud
domain push-apple.com.akadns.net      push             # APNs (*.push-apple.com.akadns.net)
domain captive.apple.com.edgekey.net  captive-portal
domain appldnld.apple.com.edgesuite.net software-update # Apple's list: Carrier updates
# The chain captive.apple.com -> captive-cidr.origin-apple.com.akadns.net ->
# captive-cdn.origin-apple.com.akadns.net -> captive.g.aaplimg.com, as seen
# in a real capture.
domain origin-apple.com.akadns.net    apple
host   captive-cidr.origin-apple.com.akadns.net captive-portal
host   captive-cdn.origin-apple.com.akadns.net captive-portal
host   captive.g.aaplimg.com          captive-portal
# unconfirmed
domain courier-push-apple.com.akadns.net push
domain ls-apple.com.akadns.net        maps             # gs-loc.apple.com (location services)
domain itunes-apple.com.akadns.net    appstore
domain icloud.com.edgekey.net         icloud

# ---- iCloud Private Relay ingress (unconfirmed) ------------------------------------------
domain mask.apple-dns.net             private-relay
domain mask-h2.apple-dns.net          private-relay
domain mask-t.apple-dns.net           private-relay
