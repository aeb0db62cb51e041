import Foundation
import LabKit
import NFTKernel
import NFTNetlink
import Testing

/// `--netns` names one entry of /var/run/netns or is an absolute path: a name that climbs out of
/// that directory (`../netns/other`), the directory itself, or a file that is not a namespace is
/// refused with a clear error and exit status 2, and nothing is changed.
@Suite("The --netns argument", .enabled(if: Environment.labTestsEnabled))
struct NamespaceArgumentTests {
    @Test("names with '/' or '..', and empty names, are refused before any namespace is entered", arguments: [
        "../netns/NAME", "./NAME", "NAME/.", "..", ".", "", "x/../NAME",
    ])
    func invalidNamesRefused(_ pattern: String) throws {
        try Namespaces.with { names in
            let argument = pattern.replacingOccurrences(of: "NAME", with: names[0])
            do {
                _ = try NetlinkTransport(namespace: argument)
                Issue.record("opened a socket for --netns \(argument)")
            } catch let error as NetlinkError {
                #expect(error.kind == .missingNamespace, "\(error)")
                #expect(error.message.contains("is not valid") || error.message.contains("does not exist"), "\(error)")
            }
        }
    }

    @Test("a path that is not a network namespace is named as such")
    func notANamespace() throws {
        try Environment.ensureKernelLab()
        for path in ["/etc/hostname", "/tmp"] {
            do {
                _ = try NetlinkTransport(namespace: path)
                Issue.record("opened a socket in \(path)")
            } catch {
                #expect(error.message == "\(path) is not a network namespace", "\(error)")
            }
        }
    }

    @Test("`kubenft delete --netns ../netns/NAME` (either backend) exits 2 and leaves the table in NAME")
    func deleteThroughParentRefused() throws {
        let demo = try #require(GoldenCases.named("demo")).compile()
        let binary = try AgentLocator.builtProduct("kubenft")
        try Namespaces.with { names in
            _ = try RulesetApplier(transport: try NetlinkTransport(namespace: names[0])).apply(demo)
            let before = try Namespaces.listRuleset(in: names[0])
            // The iptables backend enters the namespace with other tools; the name is checked the same way.
            for command in [["delete"], ["show"], ["delete", "--backend", "iptables"]] {
                let result = try Command.run([binary] + command + ["--netns", "../netns/" + names[0]])
                #expect(result.status == 2, "\(command): \(result.stdout) \(result.stderr)")
                #expect(result.stderr.contains("is not valid"), "\(result.stderr)")
                #expect(result.stdout.isEmpty, "\(result.stdout)")
            }
            #expect(try Namespaces.listRuleset(in: names[0]) == before)
        }
    }
}

/// `delete` removes the state file `apply --state PATH` wrote, as it removes the default one.
@Suite("delete and the state file", .enabled(if: Environment.labTestsEnabled))
struct DeleteStateFileTests {
    @Test("`kubenft delete --state PATH` removes the table and that file, and no other table")
    func deleteRemovesGivenStateFile() throws {
        let binary = try AgentLocator.builtProduct("kubenft")
        let demo = try #require(GoldenCases.named("demo"))
        try Namespaces.with { names in
            let statePath = NSTemporaryDirectory() + "kubenft-delete-\(names[0]).state"
            defer { unlink(statePath) }
            _ = try Namespaces.nft(["-f", "-"], in: names[0], stdin: KernelApplyTests.foreign)
            let foreign = try Namespaces.listRuleset(in: names[0])
            let apply = try Command.run([binary, "apply", "--netns", names[0], "--state", statePath, "--no-conntrack-cleanup",
                                         "-f", demo.directory + "/manifests"] + demo.arguments)
            #expect(apply.status == 0, "\(apply.stderr)")
            #expect(access(statePath, F_OK) == 0, "apply --state wrote no file")
            let delete = try Command.run([binary, "delete", "--netns", names[0], "--state", statePath])
            #expect(delete.status == 0 && delete.stdout == "deleted table inet kubenft\n", "\(delete.stdout) \(delete.stderr)")
            #expect(access(statePath, F_OK) != 0, "delete left the state file behind")
            #expect(try Namespaces.listRuleset(in: names[0]) == foreign)
        }
    }
}

/// `apply --state` names a regular file or nothing yet: saving renames over the path, so a device
/// node (a natural `--state /dev/null`) would be replaced by a state file.
@Suite("The --state argument", .enabled(if: Environment.labTestsEnabled))
struct StatePathTests {
    @Test("`apply --state` naming a device node exits 2, applies nothing and leaves the node")
    func deviceNodeRefused() throws {
        let binary = try AgentLocator.builtProduct("kubenft")
        let demo = try #require(GoldenCases.named("demo"))
        try Namespaces.with { names in
            let node = NSTemporaryDirectory() + "kubenft-null-\(names[0])"
            defer { unlink(node) }
            // The same device as /dev/null, made where the test may replace it.
            try Namespaces.run(["mknod", node, "c", "1", "3"])
            let before = try Namespaces.listRuleset(in: names[0])
            let result = try Command.run([binary, "apply", "--netns", names[0], "--state", node, "--no-conntrack-cleanup",
                                          "-f", demo.directory + "/manifests"] + demo.arguments)
            #expect(result.status == 2, "\(result.stdout) \(result.stderr)")
            #expect(result.stderr.contains("is not a regular file"), "\(result.stderr)")
            var info = stat()
            #expect(lstat(node, &info) == 0 && info.st_mode & S_IFMT == S_IFCHR, "the device node was replaced")
            #expect(try Namespaces.listRuleset(in: names[0]) == before)
        }
    }
}
