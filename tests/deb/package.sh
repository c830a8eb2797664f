# tests/deb/package.sh - the Debian package: built from the committed tree,
# checked by lintian, installed on this machine with dpkg, used by a Postfix
# delivery through the INSTALLED mxtier-pipe, removed and purged (sourced by
# tests/run-tests.sh; uses report_result, $run, $top, MXT_DNS)
#
# The build: the tracked files (git ls-files; a build product in the tree
# cannot leak in) copied to $run/deb/build/mxtier-VERSION, then
# dpkg-buildpackage -b -us -uc -j2 there. A tree that is no git checkout of
# its own (CI's copy made with git archive, built with --enable-sanitizers)
# is copied whole but for tests/tmp, and the build's own clean step
# (dh_auto_clean: make distclean) removes its build products first. The
# package configures its own copy with Debian's flags either way.
#
# Needs root (dpkg -i): not root is a FAILURE, never a pass. Runs are
# serialized machine-wide (flock), and the test refuses to touch an mxtier
# package it did not install. A user mxtier left by an earlier purge is
# deleted first, so that the postinst must make it again. deb_cleanup (also
# called by run-tests.sh's exit trap) stops the servers and purges the
# package when a check failed midway.
#
# The delivery: the world's Unbound serves ok.dlv.test (MX 10 mx1 at
# 127.0.0.21); an smtp-sink listens on 127.0.0.21 on a free port (not the
# world's 2525, so no lock on the world's sinks is needed); the test's
# settings (that server, that port) are appended to the installed
# /etc/mxtier/mxtier.conf, which mxtier-pipe reads by default; a private
# Postfix routes ok.dlv.test to a pipe(8) service written as README's
# "Installing" says (user=mxtier argv=/usr/sbin/mxtier-pipe ...). The
# journal row must appear in /var/lib/mxtier/journal.db, the default path.
# (DEB_SRC: another source tree to package, to check these checks.)

deb_dir=$run/deb
MTA_DIR=$deb_dir/mta
MTA_TOP=$top
. "$top/tests/mta/lib.sh"
deb_src=${DEB_SRC:-$top}
deb_installed=0
deb_locked=0
deb_pkg=
deb_changes=
deb_why=
deb_conf_changed=0
deb_units="mxtier-import.service mxtier-ship.service mxtier-oracle.socket mxtier-oracle@.service"

# deb_fail_rest WHY NAME... - count checks that could not run as failed
deb_fail_rest() {
	local why=$1 n
	shift
	for n in "$@"; do report_result "deb: $n" "not run: $why"; done
}

# deb_stop_servers - stop the sink and the Postfix of this test (only those)
deb_stop_servers() {
	mta_sink_stop deb
	mta_postfix_stop "$deb_dir/postfix"
}

# deb_cleanup - stop this test's servers, purge a package it installed, unlock
deb_cleanup() {
	deb_stop_servers
	if [[ $deb_installed == 1 ]]; then
		timeout 300 dpkg -P mxtier >>"$deb_dir/cleanup.log" 2>&1 ||
			echo "deb: dpkg -P mxtier failed in cleanup (see $deb_dir/cleanup.log)" >&2
		deb_installed=0
	fi
	if [[ $deb_locked == 1 ]]; then
		exec 197>&-
		deb_locked=0
	fi
}

# deb_status - dpkg's status word of mxtier ("installed", "config-files",
# "not-installed")
deb_status() {
	local s
	s=$(dpkg-query -W -f='${db:Status-Status}' mxtier 2>/dev/null)
	echo "${s:-not-installed}"
}

# deb_copy_tree DEST - the source tree to package, without build products
deb_copy_tree() {
	local dest=$1 gtop
	mkdir -p "$dest"
	gtop=$(git -C "$deb_src" rev-parse --show-toplevel 2>/dev/null)
	if [[ -n $gtop && $(cd "$gtop" && pwd -P) == $(cd "$deb_src" && pwd -P) ]]; then
		# tracked files only, as they are in the work tree
		(cd "$deb_src" && git ls-files -z | while IFS= read -r -d '' f; do
			[[ -e $f ]] && printf '%s\0' "$f"
		done | tar --null -cf - -T -) | tar -xf - -C "$dest"
	else
		(cd "$deb_src" && tar --exclude=./tests/tmp -cf - .) | tar -xf - -C "$dest"
	fi
}

# deb_build - copy, dpkg-buildpackage; sets deb_pkg and deb_changes, or
# deb_why and false
deb_build() {
	local version tree
	deb_why=
	version=$(sed -n '1s/^mxtier (\([^)]*\)).*/\1/p' "$deb_src/debian/changelog")
	[[ -n $version ]] || { deb_why="no version in debian/changelog"; return 1; }
	tree=$deb_dir/build/mxtier-${version%-*}
	rm -rf "$deb_dir/build"
	deb_copy_tree "$tree" || { deb_why="copying the tree failed"; return 1; }
	# make check's jobserver must not reach the package build
	if ! (cd "$tree" && timeout 1200 env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		dpkg-buildpackage -b -us -uc -j2) >"$deb_dir/build.log" 2>&1; then
		deb_why="dpkg-buildpackage failed (see $deb_dir/build.log)"
		return 1
	fi
	deb_pkg=$(printf '%s\n' "$deb_dir/build/mxtier_${version}_"*.deb | head -1)
	deb_changes=$(printf '%s\n' "$deb_dir/build/mxtier_${version}_"*.changes | head -1)
	[[ -f $deb_pkg && -f $deb_changes ]] || { deb_why="no mxtier_$version .deb or .changes"; return 1; }
	# every unit test the build ran passed (make check-unit stops at a failure)
	grep -q '^== tests/unit/test_plan' "$deb_dir/build.log" ||
		{ deb_why="the build ran no unit tests"; return 1; }
	return 0
}

# deb_expected_files - the paths the package must install, one a line:
# the programs of PROGRAMS (plugin/ in /usr/sbin), every man page, the
# configuration and the units
deb_expected_files() {
	local p m n
	for p in $(sed -n 's/^PROGRAMS = //p' "$deb_src/Makefile.in"); do
		case $p in
		plugin/*) echo "/usr/sbin/${p##*/}" ;;
		*) echo "/usr/bin/${p##*/}" ;;
		esac
	done
	for m in "$deb_src"/man/*.[158]; do
		n=${m##*/}
		echo "/usr/share/man/man${n##*.}/$n.gz"
	done
	echo /etc/mxtier/mxtier.conf
	echo /etc/default/mxtier
	for n in $deb_units; do echo "/lib/systemd/system/$n"; done
}

# deb_check_contents - the .deb holds every expected file, Depends names the
# libraries loaded with dlopen()
deb_check_contents() {
	local list why='' f dep
	list=$(dpkg-deb -c "$deb_pkg" | awk '{ sub(/^\./, "", $6); print $6 }')
	for f in $(deb_expected_files); do
		grep -qxF "$f" <<<"$list" || why+="missing $f; "
	done
	dep=$(dpkg-deb -f "$deb_pkg" Depends)
	for f in libssl3 libidn2-0 libcurl4 adduser; do
		[[ ", $dep," == *", $f"[\ ,]* ]] || why+="Depends lacks $f; "
	done
	[[ $(dpkg-deb -f "$deb_pkg" Section) == mail ]] || why+="Section is not mail; "
	report_result "deb: contents and Depends" "$why"
}

# deb_check_lintian - no errors on the .changes (warnings are listed)
deb_check_lintian() {
	local out rc errors
	out=$(timeout 600 lintian "$deb_changes" 2>&1)
	rc=$?
	printf '%s\n' "$out" >"$deb_dir/lintian.log"
	errors=$(grep -c '^E: ' <<<"$out")
	if [[ $rc -ne 0 || $errors -ne 0 ]]; then
		report_result "deb: lintian" "exit $rc, $errors errors" "$(grep '^E: ' <<<"$out")"
	else
		report_result "deb: lintian" ""
		grep '^W: ' <<<"$out" | sed 's/^/    lintian: /'
	fi
}

# deb_check_installed - files, conffiles, the user, its directory, units
deb_check_installed() {
	local why='' f u conf sample pw state out prog uid home shell
	for f in $(deb_expected_files); do
		[[ -e $f ]] || why+="$f not installed; "
	done
	for f in $(deb_expected_files | grep '/s\?bin/'); do
		[[ -x $f ]] || why+="$f not executable; "
	done
	report_result "deb: files installed" "$why"

	# conffiles, and the sample has Debian's paths and is a valid
	# configuration once every key is uncommented
	why=
	conf=$(dpkg-query -W -f='${Conffiles}' mxtier)
	for f in /etc/mxtier/mxtier.conf /etc/default/mxtier; do
		grep -q "^ $f [0-9a-f]\{32\}" <<<"$conf" || why+="$f is not a conffile; "
	done
	sample=$(sed -e 's|@sysconfdir@|/etc|g' -e 's|@localstatedir@|/var|g' "$deb_src/etc/mxtier.conf.in")
	[[ $sample == "$(cat /etc/mxtier/mxtier.conf 2>/dev/null)" ]] ||
		why+="/etc/mxtier/mxtier.conf is not the sample with /etc and /var; "
	sed -e 's/^#\([a-z}	]\)/\1/' /etc/mxtier/mxtier.conf >"$deb_dir/uncommented.conf"
	grep -q '^	path = "/var/lib/mxtier/journal.db"$' "$deb_dir/uncommented.conf" ||
		why+="the sample's journal.path is not /var/lib/mxtier/journal.db; "
	out=$(timeout 30 /usr/sbin/mxtier-pipe -c "$deb_dir/uncommented.conf" \
		--dns-server 127.0.0.1:9 --route example.com 2>&1)
	[[ $out == *"route for example.com"* && $out != *configuration* ]] ||
		why+="the uncommented sample is refused: $(head -1 <<<"$out"); "
	report_result "deb: conffiles and the sample configuration" "$why"

	# the system user and its directory
	why=
	pw=$(getent passwd mxtier)
	IFS=: read -r u _ uid _ _ home shell <<<"$pw"
	if [[ -z $pw ]]; then
		why+="no user mxtier; "
	else
		[[ $uid -lt 1000 ]] || why+="mxtier is no system user (uid $uid); "
		[[ $home == /var/lib/mxtier ]] || why+="home $home; "
		[[ $shell == */nologin || $shell == /bin/false ]] || why+="shell $shell; "
	fi
	getent group mxtier >/dev/null || why+="no group mxtier; "
	[[ $(stat -c '%U:%G %a' /var/lib/mxtier 2>&1) == "mxtier:mxtier 750" ]] ||
		why+="/var/lib/mxtier is $(stat -c '%U:%G %a' /var/lib/mxtier 2>&1); "
	report_result "deb: user mxtier owns /var/lib/mxtier" "$why"

	# units: present, not enabled, their programs installed, valid
	why=
	for u in $deb_units; do
		state=$(systemctl is-enabled "$u" 2>&1)
		case $u in
		*@.service) [[ $state == static || $state == indirect ]] || why+="$u is $state; " ;;
		*) [[ $state == disabled ]] || why+="$u is $state; " ;;
		esac
		prog=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "/lib/systemd/system/$u")
		[[ -z $prog || -x $prog ]] || why+="$u runs $prog, which the package lacks; "
		out=$(timeout 60 systemd-analyze verify "/lib/systemd/system/$u" 2>&1) ||
			why+="systemd-analyze verify $u: $(head -1 <<<"$out"); "
	done
	out=$(find /etc/systemd/system -name 'mxtier*' 2>/dev/null)
	[[ -z $out ]] || why+="enabled: $out; "
	grep -q '^ListenStream=127.0.0.1:2527$' /lib/systemd/system/mxtier-oracle.socket &&
		grep -q '^Accept=yes$' /lib/systemd/system/mxtier-oracle.socket ||
		why+="mxtier-oracle.socket is not 127.0.0.1:2527 with Accept=yes; "
	report_result "deb: units installed, disabled, valid" "$why"
}

# deb_deliver - a Postfix delivery through the installed mxtier-pipe as mxtier
deb_deliver() {
	local port pf=$deb_dir/postfix msg=$deb_dir/msg.eml marker=deb.$$ qid out why='' rows found
	local MTA_POSTFIX_TRANSPORTS MTA_POSTFIX_MASTER MTA_POSTFIX_MAIN
	# settings an earlier script of the run may have left (the oracle tests'
	# socketmap transport_maps) must not reach this Postfix
	local MTA_POSTFIX_TRANSPORT_MAPS= MTA_PIPE_ENV= MTA_POSTFIX_QUEUE_LIFETIME=
	local MTA_PIPE_TIME_LIMIT=60 MTA_WAIT=90
	port=$(_mta_free_port) || { report_result "deb: postfix delivery" "no free port"; return; }
	if ! mta_sink_start deb 127.0.0.21 "$port"; then
		report_result "deb: postfix delivery" "smtp-sink did not start"
		return
	fi
	if [[ ! -f /etc/mxtier/mxtier.conf ]]; then
		report_result "deb: postfix delivery" "no /etc/mxtier/mxtier.conf to set the test world in"
		return
	fi
	cat >>/etc/mxtier/mxtier.conf <<EOF

# tests/deb/package.sh: the test world
resolver { servers = { "$MXT_DNS" }  timeout = 2  tries = 1 }
policy { ignore_networks = {} }
smtp { port = $port  helo_name = "client.mxtier.test"  connect_timeout = 5  greeting_timeout = 10 }
EOF
	deb_conf_changed=1
	# the service as README's "Installing" writes it; ok.dlv.test goes there
	MTA_POSTFIX_TRANSPORTS=$(printf 'ok.dlv.test\tmxtierpkg:')
	MTA_POSTFIX_MASTER='mxtierpkg unix - n n - - pipe
  flags=q null_sender= user=mxtier argv=/usr/sbin/mxtier-pipe
  -q ${queue_id} -f ${sender} -d ${nexthop} -- ${recipient}'
	MTA_POSTFIX_MAIN="mxtierpkg_destination_recipient_limit = 1
mxtierpkg_time_limit = 120s"
	if ! mta_postfix_start "$pf" /usr/sbin/mxtier-pipe -q '${queue_id}' -f '${sender}' \
		-d '${nexthop}' -- '${recipient}'; then
		report_result "deb: postfix delivery" "postfix did not start"
		return
	fi
	printf 'From: a@client.test\nTo: user@ok.dlv.test\nSubject: package\nX-Mxt-Case: %s\n\nthrough the installed mxtier-pipe\n' \
		"$marker" >"$msg"
	qid=$(mta_postfix_send "$pf" a@client.test user@ok.dlv.test "$msg") ||
		{ report_result "deb: postfix delivery" "postfix refused the message"; return; }
	out=$(mta_postfix_wait "$pf" "$qid")
	[[ $out == "sent 2.0.0 "* ]] || why+="postfix says \"$out\"; "
	grep -q " $qid: to=<user@ok.dlv.test>, relay=mxtierpkg," "$pf/maillog" ||
		why+="not delivered by the mxtierpkg service; "
	found=$(mta_sink_find "X-Mxt-Case: $marker")
	[[ $(wc -l <<<"$found") -eq 1 && $found == "deb "* ]] ||
		why+="the sink stored it $(grep -c . <<<"$found") times; "
	if [[ -n $found && $(mta_sink_file_rcpts "${found#deb }") != "<user@ok.dlv.test>" ]]; then
		why+="recipients at the sink: $(mta_sink_file_rcpts "${found#deb }" | tr '\n' ' '); "
	fi
	rows=$(sqlite3 /var/lib/mxtier/journal.db "select group_concat(ifnull(stage,'-') || ':' ||
		outcome || ':' || decision || ':' || address, ' ') from (select * from attempts
		where queue_id = '$qid' order by id)" 2>&1)
	[[ $rows == "dot:delivered:done:127.0.0.21" ]] || why+="journal rows \"$rows\"; "
	[[ $(stat -c %U /var/lib/mxtier/journal.db 2>&1) == mxtier ]] ||
		why+="journal.db owned by $(stat -c %U /var/lib/mxtier/journal.db 2>&1); "
	report_result "deb: postfix delivery through /usr/sbin/mxtier-pipe" "$why"
	deb_stop_servers
}

# deb_remove_purge - dpkg -r keeps the configuration, dpkg -P removes it all
deb_remove_purge() {
	local why='' f out
	if ! timeout 300 dpkg -r mxtier >"$deb_dir/remove.log" 2>&1; then
		why+="dpkg -r failed: $(tail -1 "$deb_dir/remove.log"); "
	fi
	[[ $(deb_status) == config-files ]] || why+="status $(deb_status), want config-files; "
	for f in $(deb_expected_files | grep -v '^/etc/'); do
		[[ ! -e $f ]] || why+="$f still there; "
	done
	[[ -f /etc/mxtier/mxtier.conf ]] || why+="the conffile is gone; "
	if [[ $deb_conf_changed == 1 ]] &&
	   ! grep -q '^# tests/deb/package.sh: the test world$' /etc/mxtier/mxtier.conf 2>/dev/null; then
		why+="the changed conffile lost its change; "
	fi
	[[ -f /var/lib/mxtier/journal.db ]] || why+="the journal is gone; "
	report_result "deb: dpkg -r keeps configuration and journal" "$why"

	why=
	if ! timeout 300 dpkg -P mxtier >"$deb_dir/purge.log" 2>&1; then
		why+="dpkg -P failed: $(tail -1 "$deb_dir/purge.log"); "
	else
		deb_installed=0
	fi
	[[ $(deb_status) == not-installed ]] || why+="status $(deb_status); "
	for f in /etc/mxtier /var/lib/mxtier /etc/default/mxtier; do
		[[ ! -e $f ]] || why+="$f still there; "
	done
	out=$(find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled \
		-name 'mxtier*' 2>/dev/null)
	[[ -z $out ]] || why+="left: $out; "
	report_result "deb: dpkg -P removes configuration and journal" "$why"
}

# deb_main - the whole test, in order; every check that cannot run fails
deb_main() {
	local -a deb_rest=(contents lintian dpkg-i files conffiles user units delivery remove purge)
	mkdir -p "$deb_dir"
	echo "== the Debian package (tests/deb/package.sh)"
	if [[ $(id -u) -ne 0 ]]; then
		report_result "deb: package" "NOT RUN: dpkg -i needs root (this test installs the package)"
		return
	fi
	exec 197>"${TMPDIR:-/tmp}/mxtier-deb-package.lock"
	if ! flock -w 1200 197; then
		exec 197>&-
		report_result "deb: package" "NOT RUN: another run of this test held its lock for 20 min"
		return
	fi
	deb_locked=1
	if [[ $(deb_status) != not-installed ]]; then
		report_result "deb: package" "NOT RUN: mxtier is already on this machine ($(deb_status)); this test replaces no package it did not install (dpkg -P mxtier first)"
		deb_cleanup
		return
	fi
	# a user left by an earlier purge: the postinst must make it itself
	if getent passwd mxtier >/dev/null; then
		userdel mxtier 2>/dev/null
		getent group mxtier >/dev/null && groupdel mxtier 2>/dev/null
	fi
	if deb_build; then
		report_result "deb: dpkg-buildpackage -b" ""
	else
		report_result "deb: dpkg-buildpackage -b" "$deb_why" "$(tail -5 "$deb_dir/build.log" 2>/dev/null)"
		deb_fail_rest "no package" "${deb_rest[@]}"
		deb_cleanup
		return
	fi
	deb_check_contents
	deb_check_lintian
	deb_installed=1
	if timeout 300 dpkg -i "$deb_pkg" >"$deb_dir/install.log" 2>&1 && [[ $(deb_status) == installed ]]; then
		report_result "deb: dpkg -i" ""
	else
		report_result "deb: dpkg -i" "failed, status $(deb_status)" "$(tail -5 "$deb_dir/install.log")"
		deb_fail_rest "not installed" files conffiles user units delivery remove purge
		deb_cleanup
		return
	fi
	deb_check_installed
	deb_deliver
	deb_remove_purge
	deb_cleanup
}

deb_main
