// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Test} from "forge-std/Test.sol";

import {DoctorRegistry} from "../src/DoctorRegistry.sol";
import {IDoctorRegistry} from "../src/interfaces/IDoctorRegistry.sol";

contract DoctorRegistryTest is Test {
    DoctorRegistry internal registry;
    address internal admin = makeAddr("admin");
    address internal issuer = makeAddr("issuer");
    address internal doctor = makeAddr("doctor");
    address internal hospital = makeAddr("hospital");
    address internal stranger = makeAddr("stranger");
    bytes32 internal constant LICENSE = keccak256("licence #1234");
    bytes32 internal constant KEY = keccak256("x25519 public key");
    uint64 internal expiry;

    function setUp() public {
        vm.warp(1_700_000_000);
        registry = new DoctorRegistry(admin, issuer);
        expiry = uint64(block.timestamp + 365 days);
    }

    function _accredit() internal {
        vm.prank(issuer);
        registry.accredit(doctor, LICENSE, expiry);
    }

    function _accreditHospital(address account) internal {
        vm.prank(issuer);
        registry.accreditHospital(account, LICENSE, expiry);
    }

    // ------------------------------------------------------------ constructor

    function test_constructor_grantsRoles() public view {
        assertTrue(registry.hasRole(registry.DEFAULT_ADMIN_ROLE(), admin));
        assertTrue(registry.hasRole(registry.CREDENTIAL_ISSUER_ROLE(), issuer));
        assertFalse(registry.hasRole(registry.CREDENTIAL_ISSUER_ROLE(), admin));
        assertEq(registry.CREDENTIAL_ISSUER_ROLE(), keccak256("CREDENTIAL_ISSUER_ROLE"));
    }

    // --------------------------------------------------------------- accredit

    function test_accredit_storesCredentialAndEmits() public {
        vm.expectEmit(address(registry));
        emit IDoctorRegistry.DoctorAccredited(doctor, LICENSE, expiry);
        _accredit();
        IDoctorRegistry.Credential memory c = registry.credentialOf(doctor);
        assertEq(c.expiresAt, expiry);
        assertFalse(c.revoked);
        assertEq(c.licenseHash, LICENSE);
        assertEq(uint8(c.role), uint8(IDoctorRegistry.Role.Doctor));
        assertTrue(registry.isAccredited(doctor));
        assertFalse(registry.isAccreditedHospital(doctor));
        assertFalse(registry.canServe(doctor)); // no encryption key yet
    }

    function test_accredit_reaccreditLiftsRevocation() public {
        _accredit();
        vm.prank(issuer);
        registry.revoke(doctor);
        assertFalse(registry.isAccredited(doctor));
        vm.prank(issuer);
        registry.accredit(doctor, keccak256("renewed"), expiry + 1);
        assertTrue(registry.isAccredited(doctor));
        assertEq(registry.credentialOf(doctor).licenseHash, keccak256("renewed"));
        assertEq(registry.credentialOf(doctor).expiresAt, expiry + 1);
    }

    function test_accredit_revertsWhen_notIssuer() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                admin,
                registry.CREDENTIAL_ISSUER_ROLE()
            )
        );
        vm.prank(admin);
        registry.accredit(doctor, LICENSE, expiry);
    }

    function test_accredit_revertsWhen_zeroDoctor() public {
        vm.expectRevert(IDoctorRegistry.ZeroAccount.selector);
        vm.prank(issuer);
        registry.accredit(address(0), LICENSE, expiry);
    }

    function test_accredit_revertsWhen_emptyLicenseHash() public {
        vm.expectRevert(IDoctorRegistry.EmptyLicenseHash.selector);
        vm.prank(issuer);
        registry.accredit(doctor, bytes32(0), expiry);
    }

    function test_accredit_revertsWhen_expiryNotInFuture() public {
        uint64 now_ = uint64(block.timestamp);
        vm.expectRevert(
            abi.encodeWithSelector(IDoctorRegistry.ExpiryNotInFuture.selector, now_, block.timestamp)
        );
        vm.prank(issuer);
        registry.accredit(doctor, LICENSE, now_);
    }

    function testFuzz_accredit_expiry(uint64 expiresAt) public {
        if (expiresAt <= block.timestamp) {
            vm.expectRevert(
                abi.encodeWithSelector(IDoctorRegistry.ExpiryNotInFuture.selector, expiresAt, block.timestamp)
            );
        }
        vm.prank(issuer);
        registry.accredit(doctor, LICENSE, expiresAt);
    }

    /// @dev Issue 10, finding 1: one account cannot review the tasks it posts by holding both roles.
    function test_accredit_revertsWhen_accreditedHospital() public {
        _accreditHospital(doctor);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDoctorRegistry.RoleConflict.selector,
                doctor,
                IDoctorRegistry.Role.Hospital,
                IDoctorRegistry.Role.Doctor
            )
        );
        vm.prank(issuer);
        registry.accredit(doctor, LICENSE, expiry);
        assertFalse(registry.isAccredited(doctor));
        assertTrue(registry.isAccreditedHospital(doctor));
    }

    function test_accredit_allowedWhen_hospitalCredentialRevoked() public {
        _accreditHospital(doctor);
        vm.prank(issuer);
        registry.revoke(doctor);
        _accredit();
        assertTrue(registry.isAccredited(doctor));
        assertFalse(registry.isAccreditedHospital(doctor));
        assertEq(uint8(registry.credentialOf(doctor).role), uint8(IDoctorRegistry.Role.Doctor));
    }

    function test_accredit_allowedWhen_hospitalCredentialExpired() public {
        _accreditHospital(doctor);
        vm.warp(expiry);
        vm.prank(issuer);
        registry.accredit(doctor, LICENSE, expiry + 1 days);
        assertTrue(registry.isAccredited(doctor));
        assertFalse(registry.isAccreditedHospital(doctor));
    }

    // -------------------------------------------------------- accreditHospital

    function test_accreditHospital_storesCredentialAndEmits() public {
        vm.expectEmit(address(registry));
        emit IDoctorRegistry.HospitalAccredited(hospital, LICENSE, expiry);
        _accreditHospital(hospital);
        IDoctorRegistry.Credential memory c = registry.credentialOf(hospital);
        assertEq(c.expiresAt, expiry);
        assertFalse(c.revoked);
        assertEq(uint8(c.role), uint8(IDoctorRegistry.Role.Hospital));
        assertEq(c.licenseHash, LICENSE);
        assertTrue(registry.isAccreditedHospital(hospital));
        assertFalse(registry.isAccredited(hospital));
        assertFalse(registry.canServe(hospital));
    }

    function test_accreditHospital_reaccreditLiftsRevocation() public {
        _accreditHospital(hospital);
        vm.prank(issuer);
        registry.revoke(hospital);
        assertFalse(registry.isAccreditedHospital(hospital));
        vm.prank(issuer);
        registry.accreditHospital(hospital, keccak256("renewed"), expiry + 1);
        assertTrue(registry.isAccreditedHospital(hospital));
        assertEq(registry.credentialOf(hospital).expiresAt, expiry + 1);
    }

    function test_accreditHospital_honoursExpiry() public {
        _accreditHospital(hospital);
        vm.warp(expiry - 1);
        assertTrue(registry.isAccreditedHospital(hospital));
        vm.warp(expiry);
        assertFalse(registry.isAccreditedHospital(hospital));
    }

    function test_accreditHospital_revertsWhen_accreditedDoctor() public {
        _accredit();
        vm.expectRevert(
            abi.encodeWithSelector(
                IDoctorRegistry.RoleConflict.selector,
                doctor,
                IDoctorRegistry.Role.Doctor,
                IDoctorRegistry.Role.Hospital
            )
        );
        vm.prank(issuer);
        registry.accreditHospital(doctor, LICENSE, expiry);
        assertTrue(registry.isAccredited(doctor));
        assertFalse(registry.isAccreditedHospital(doctor));
    }

    function test_accreditHospital_allowedWhen_doctorCredentialRevoked() public {
        _accredit();
        vm.prank(doctor);
        registry.setEncryptionKey(KEY);
        vm.prank(issuer);
        registry.revoke(doctor);
        _accreditHospital(doctor);
        assertTrue(registry.isAccreditedHospital(doctor));
        assertFalse(registry.isAccredited(doctor));
        // The old key is still stored, but a hospital cannot serve as a doctor.
        assertFalse(registry.canServe(doctor));
    }

    function test_accreditHospital_allowedWhen_doctorCredentialExpired() public {
        _accredit();
        vm.warp(expiry);
        vm.prank(issuer);
        registry.accreditHospital(doctor, LICENSE, expiry + 1 days);
        assertTrue(registry.isAccreditedHospital(doctor));
        assertFalse(registry.isAccredited(doctor));
    }

    function test_accreditHospital_revertsWhen_notIssuer() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                admin,
                registry.CREDENTIAL_ISSUER_ROLE()
            )
        );
        vm.prank(admin);
        registry.accreditHospital(hospital, LICENSE, expiry);
    }

    function test_accreditHospital_revertsWhen_zeroAccount() public {
        vm.expectRevert(IDoctorRegistry.ZeroAccount.selector);
        vm.prank(issuer);
        registry.accreditHospital(address(0), LICENSE, expiry);
    }

    function test_accreditHospital_revertsWhen_emptyLicenseHash() public {
        vm.expectRevert(IDoctorRegistry.EmptyLicenseHash.selector);
        vm.prank(issuer);
        registry.accreditHospital(hospital, bytes32(0), expiry);
    }

    function test_accreditHospital_revertsWhen_expiryNotInFuture() public {
        uint64 now_ = uint64(block.timestamp);
        vm.expectRevert(
            abi.encodeWithSelector(IDoctorRegistry.ExpiryNotInFuture.selector, now_, block.timestamp)
        );
        vm.prank(issuer);
        registry.accreditHospital(hospital, LICENSE, now_);
    }

    /// @dev Any sequence of accreditations, revocations and time: an account never holds both
    /// roles at once.
    function testFuzz_accreditHospital_neverBothRoles(uint8[8] memory ops, uint32[8] memory gaps) public {
        for (uint256 i; i < ops.length; ++i) {
            vm.warp(block.timestamp + bound(gaps[i], 0, 400 days));
            uint64 until = uint64(block.timestamp + 30 days);
            vm.startPrank(issuer);
            uint8 op = ops[i] % 3;
            if (op == 0) {
                try registry.accredit(doctor, LICENSE, until) {} catch {}
            } else if (op == 1) {
                try registry.accreditHospital(doctor, LICENSE, until) {} catch {}
            } else {
                try registry.revoke(doctor) {} catch {}
            }
            vm.stopPrank();
            assertFalse(registry.isAccredited(doctor) && registry.isAccreditedHospital(doctor));
        }
    }

    // ----------------------------------------------------------------- revoke

    function test_revoke_marksRevokedAndEmits() public {
        _accredit();
        vm.expectEmit(address(registry));
        emit IDoctorRegistry.DoctorRevoked(doctor);
        vm.prank(issuer);
        registry.revoke(doctor);
        assertTrue(registry.credentialOf(doctor).revoked);
        assertFalse(registry.isAccredited(doctor));
    }

    function test_revoke_hospitalMarksRevokedAndEmits() public {
        _accreditHospital(hospital);
        vm.expectEmit(address(registry));
        emit IDoctorRegistry.HospitalRevoked(hospital);
        vm.prank(issuer);
        registry.revoke(hospital);
        assertTrue(registry.credentialOf(hospital).revoked);
        assertFalse(registry.isAccreditedHospital(hospital));
    }

    function test_revoke_stopsServingEvenWithKey() public {
        _accredit();
        vm.prank(doctor);
        registry.setEncryptionKey(KEY);
        assertTrue(registry.canServe(doctor));
        vm.prank(issuer);
        registry.revoke(doctor);
        assertFalse(registry.canServe(doctor));
        assertEq(registry.encryptionKeyOf(doctor), KEY);
    }

    function test_revoke_revertsWhen_notIssuer() public {
        _accredit();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector,
                stranger,
                registry.CREDENTIAL_ISSUER_ROLE()
            )
        );
        vm.prank(stranger);
        registry.revoke(doctor);
    }

    function test_revoke_revertsWhen_noCredential() public {
        vm.expectRevert(abi.encodeWithSelector(IDoctorRegistry.NoCredential.selector, doctor));
        vm.prank(issuer);
        registry.revoke(doctor);
    }

    function test_revoke_revertsWhen_alreadyRevoked() public {
        _accredit();
        vm.startPrank(issuer);
        registry.revoke(doctor);
        vm.expectRevert(abi.encodeWithSelector(IDoctorRegistry.AlreadyRevoked.selector, doctor));
        registry.revoke(doctor);
        vm.stopPrank();
    }

    // -------------------------------------------------------- setEncryptionKey

    function test_setEncryptionKey_storesAndEmits() public {
        _accredit();
        vm.expectEmit(address(registry));
        emit IDoctorRegistry.EncryptionKeySet(doctor, KEY);
        vm.prank(doctor);
        registry.setEncryptionKey(KEY);
        assertEq(registry.encryptionKeyOf(doctor), KEY);
        assertTrue(registry.canServe(doctor));
    }

    function test_setEncryptionKey_canRotate() public {
        _accredit();
        vm.startPrank(doctor);
        registry.setEncryptionKey(KEY);
        registry.setEncryptionKey(bytes32(uint256(2)));
        vm.stopPrank();
        assertEq(registry.encryptionKeyOf(doctor), bytes32(uint256(2)));
    }

    function test_setEncryptionKey_revertsWhen_notAccredited() public {
        vm.expectRevert(abi.encodeWithSelector(IDoctorRegistry.NotAccredited.selector, stranger));
        vm.prank(stranger);
        registry.setEncryptionKey(KEY);
    }

    function test_setEncryptionKey_revertsWhen_hospital() public {
        _accreditHospital(hospital);
        vm.expectRevert(abi.encodeWithSelector(IDoctorRegistry.NotAccredited.selector, hospital));
        vm.prank(hospital);
        registry.setEncryptionKey(KEY);
    }

    function test_setEncryptionKey_revertsWhen_expired() public {
        _accredit();
        vm.warp(expiry);
        vm.expectRevert(abi.encodeWithSelector(IDoctorRegistry.NotAccredited.selector, doctor));
        vm.prank(doctor);
        registry.setEncryptionKey(KEY);
    }

    function test_setEncryptionKey_revertsWhen_zeroKey() public {
        _accredit();
        vm.expectRevert(IDoctorRegistry.ZeroEncryptionKey.selector);
        vm.prank(doctor);
        registry.setEncryptionKey(bytes32(0));
    }

    // ------------------------------------------------------------------ views

    function test_isAccredited_falseForUnknown() public view {
        assertFalse(registry.isAccredited(stranger));
        assertFalse(registry.isAccreditedHospital(stranger));
        assertFalse(registry.canServe(stranger));
        assertEq(registry.credentialOf(stranger).expiresAt, 0);
        assertEq(registry.encryptionKeyOf(stranger), bytes32(0));
    }

    function testFuzz_isAccredited_honoursExpiry(uint256 elapsed) public {
        _accredit();
        elapsed = bound(elapsed, 0, 3 * 365 days);
        vm.warp(block.timestamp + elapsed);
        assertEq(registry.isAccredited(doctor), block.timestamp < expiry);
    }
}
