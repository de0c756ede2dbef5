#!/usr/bin/env bash
# Every example file the project ships is what it claims to be: real
# kubectl loads it, and each exec entry's arguments are ones the plugin
# accepts (parsed by the plugin itself, so a renamed option fails here).
. "$(dirname "$0")/../lib.sh"

# A plain kubectl binary: /usr/bin/kubectl may be the Cloud SDK's version
# dispatcher, which runs exec plugins even for `config view`.
KUBECTL=$(ls /usr/lib/google-cloud-sdk/bin/kubectl.1.[0-9]* 2>/dev/null | sort -V | tail -1)
KUBECTL=${KUBECTL:-$(command -v kubectl)}
[ -n "$KUBECTL" ] || die "no kubectl on this machine"

examples=$(cd "$KMFA_SRC" && git ls-files 2>/dev/null | grep -E '(^|/)kubeconfig[^/]*\.example$|\.kubeconfig\.ya?ml$')
examples=${examples:-kubeconfig.example}
n=0
for ex in $examples; do
	f=$KMFA_SRC/$ex
	n=$((n + 1))
	"$KUBECTL" config view --kubeconfig "$f" -o json >"$T/view.json" 2>"$T/view.err"
	rc=$?
	check "$ex: kubectl $("$KUBECTL" version --client -o json 2>/dev/null | jq -r .clientVersion.gitVersion) loads it (rc $rc$( [ -s "$T/view.err" ] && printf ': %s' "$(head -1 "$T/view.err")"))" \
		'[ "$rc" -eq 0 ] && [ ! -s "$T/view.err" ]'
	users=$(jq -r '.users[] | select(.user.exec != null) | .name' "$T/view.json" 2>/dev/null)
	check "$ex: it has exec users ($(printf '%s ' $users))" '[ -n "$users" ]'
	for u in $users; do
		cmd=$(jq -r --arg u "$u" '.users[] | select(.name == $u) | .user.exec.command' "$T/view.json")
		mapfile -t args < <(jq -r --arg u "$u" '.users[] | select(.name == $u) | .user.exec.args[]' "$T/view.json")
		check "$ex: user $u runs kubectl-mfa ($cmd)" '[ "$(basename "$cmd")" = kubectl-mfa ]'
		# --help after the entry's own arguments: exit 0 only if every
		# one of them parses for that command.
		"$KMFA" "${args[@]}" --help >/dev/null 2>"$T/args.err"
		rc=$?
		check "$ex: user $u: the plugin accepts its arguments (${args[0]} ..., rc $rc$( [ -s "$T/args.err" ] && printf ': %s' "$(head -1 "$T/args.err")"))" '[ "$rc" -eq 0 ]'
	done
done
# The check itself can fail: a kubeconfig with the old placeholder.
sed 's|certificate-authority: .*|certificate-authority-data: LS0tLS1CRUdJTi...|' \
	"$KMFA_SRC/kubeconfig.example" >"$T/bad.example"
"$KUBECTL" config view --kubeconfig "$T/bad.example" >/dev/null 2>&1
rc=$?
check "a placeholder that is not base64 is refused by kubectl (rc $rc)" '[ "$rc" -ne 0 ]'
"$KMFA" get-token --oidc-issuer-url=https://x --no-such-option --help >/dev/null 2>&1
rc=$?
check "an unknown option in an entry's arguments is refused (rc $rc)" '[ "$rc" -eq 2 ]'
check "at least one example was checked ($n)" '[ "$n" -ge 1 ]'

# The API server's side: every shipped structured authentication
# configuration is apiserver.config.k8s.io/v1 YAML that kube-apiserver's
# validation would take (what can be checked without one: unique https
# issuers, audiences, a username mapping with a prefix, rules that are a
# claim/requiredValue pair or one expression, `in claims.X` guarded by
# has(), claims.email only with an email_verified rule), and the README's
# example is made of its entries.
authcheck() { # FILE [README]: prints the problems, fails when there is one
	python3 - "$@" <<-'PY'
	import re, sys, yaml
	probs = []
	def check_doc(doc, where):
	    if not isinstance(doc, dict):
	        probs.append(f"{where}: not a mapping"); return []
	    if doc.get("apiVersion") != "apiserver.config.k8s.io/v1" or \
	       doc.get("kind") != "AuthenticationConfiguration":
	        probs.append(f"{where}: not apiserver.config.k8s.io/v1 AuthenticationConfiguration")
	    jwt = doc.get("jwt") or []
	    urls = [j.get("issuer", {}).get("url") for j in jwt]
	    if len(set(urls)) != len(urls):
	        probs.append(f"{where}: an issuer URL appears twice")
	    for j in jwt:
	        iss = j.get("issuer", {}); u = iss.get("url", "")
	        if not u.startswith("https://"): probs.append(f"{u}: not https")
	        aud = iss.get("audiences") or []
	        if not aud: probs.append(f"{u}: no audiences")
	        if len(aud) > 1 and iss.get("audienceMatchPolicy") != "MatchAny":
	            probs.append(f"{u}: several audiences need audienceMatchPolicy MatchAny")
	        un = (j.get("claimMappings") or {}).get("username") or {}
	        if "claim" in un and "prefix" not in un:
	            probs.append(f"{u}: username.claim without a prefix")
	        if ("claim" in un) == ("expression" in un):
	            probs.append(f"{u}: username needs one of claim, expression")
	        rules = j.get("claimValidationRules") or []
	        if not rules: probs.append(f"{u}: no claim rule")
	        exprs = []
	        for r in rules:
	            pair = "claim" in r and "requiredValue" in r
	            if pair == ("expression" in r):
	                probs.append(f"{u}: a rule is neither a claim/requiredValue pair nor one expression")
	            if "expression" in r:
	                exprs.append(r["expression"])
	                for c in re.findall(r"in claims\.(\w+)", r["expression"]):
	                    if f"has(claims.{c})" not in r["expression"]:
	                        probs.append(f"{u}: 'in claims.{c}' without has(claims.{c})")
	        if "claims.email" in un.get("expression", "") and \
	           not any("claims.email_verified" in e for e in exprs):
	            probs.append(f"{u}: claims.email without an email_verified rule")
	    return jwt
	try:
	    entries = check_doc(yaml.safe_load(open(sys.argv[1])), sys.argv[1])
	except yaml.YAMLError as e:
	    print(f"{sys.argv[1]}: {e}".splitlines()[0]); sys.exit(1)
	if len(entries) < 2:
	    probs.append(f"{sys.argv[1]}: fewer than two issuers")
	if len(sys.argv) > 2:
	    text = open(sys.argv[2]).read()
	    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
	    blocks = [b for b in blocks if "AuthenticationConfiguration" in b]
	    if not blocks: probs.append("README: no AuthenticationConfiguration example")
	    for b in blocks:
	        b = "\n".join(l[2:] if l.startswith("  ") else l for l in b.splitlines())
	        for j in check_doc(yaml.safe_load(b), "README"):
	            if j not in entries:
	                probs.append(f"README: {j['issuer']['url']} differs from the example file's")
	for p in probs: print(p)
	sys.exit(1 if probs else 0)
	PY
}
auths=$(cd "$KMFA_SRC" && git ls-files 2>/dev/null | grep -E '(^|/)authentication-config[^/]*\.ya?ml$')
auths=${auths:-authentication-config.example.yaml}
for ex in $auths; do
	got=$(authcheck "$KMFA_SRC/$ex" 2>&1)
	check "$ex: apiserver.config.k8s.io/v1, several issuers, each with its rule and prefix${got:+ ($(tr '\n' ';' <<<"$got"))}" \
		'[ -z "$got" ] && [ "$(grep -c "^- issuer:" "$KMFA_SRC/$ex")" -ge 2 ]'
done
got=$(authcheck "$KMFA_SRC/authentication-config.example.yaml" "$KMFA_SRC/README.md" 2>&1)
check "README: the API server example is v1 and made of the example file's entries${got:+ ($(tr '\n' ';' <<<"$got"))}" '[ -z "$got" ]'
# The check can fail: v1beta1, a repeated issuer, an unguarded amr rule.
sed -e 's|apiserver.config.k8s.io/v1$|apiserver.config.k8s.io/v1beta1|' \
	-e 's|https://example.okta.com/oauth2/default|https://example.eu.auth0.com/|' \
	-e "s|has(claims.amr) \&\& 'mfa'|'mfa'|" \
	"$KMFA_SRC/authentication-config.example.yaml" >"$T/bad-auth.yaml"
got=$(authcheck "$T/bad-auth.yaml" 2>&1)
check "the check refuses v1beta1, a repeated issuer and an unguarded 'in claims.amr'" \
	'contains "$got" "not apiserver.config.k8s.io/v1" && contains "$got" "appears twice" &&
	 contains "$got" "without has(claims.amr)"'
finish
