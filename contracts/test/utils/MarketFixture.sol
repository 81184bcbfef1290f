// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Test} from "forge-std/Test.sol";

import {DiagnosisMarket} from "../../src/DiagnosisMarket.sol";
import {DoctorRegistry} from "../../src/DoctorRegistry.sol";
import {ReputationToken} from "../../src/ReputationToken.sol";
import {IDiagnosisMarket} from "../../src/interfaces/IDiagnosisMarket.sol";
import {IDoctorRegistry} from "../../src/interfaces/IDoctorRegistry.sol";
import {FeeOnTransferToken} from "../mocks/FeeOnTransferToken.sol";
import {MockStablecoin} from "../mocks/MockStablecoin.sol";

/// @notice Shared set-up: the three contracts wired as in production (the market creates its
/// reputation token), a 6-decimal stablecoin whose default tasks earn reputation, a
/// fee-on-transfer token, a funded accredited hospital and accredited doctors with keys, plus
/// helpers to walk a task through its life.
abstract contract MarketFixture is Test {
    uint256 internal constant START = 1_700_000_000;
    uint256 internal constant NUM_DOCTORS = 16;
    uint96 internal constant BOUNTY = 1_000e6;
    uint96 internal constant STAKE = 50e6;
    uint40 internal constant COMMIT_WINDOW = 1 days;
    uint40 internal constant REVEAL_WINDOW = 1 days;
    uint8 internal constant NUM_CLASSES = 4;
    /// @dev The smallest usdc bounty that earns reputation (the deploy script's 10 tUSD).
    uint96 internal constant MIN_REP_BOUNTY = 10e6;
    string internal constant SCAN_CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
    bytes32 internal constant SALT_TYPEHASH = keccak256("CrypDocSalt(uint256 taskId,address market)");

    DoctorRegistry internal registry;
    ReputationToken internal rep;
    DiagnosisMarket internal market;
    MockStablecoin internal usdc;
    FeeOnTransferToken internal feeToken;

    address internal admin = makeAddr("admin");
    address internal issuer = makeAddr("issuer");
    address internal hospital = makeAddr("hospital");
    address internal stranger = makeAddr("stranger");

    address[] internal doctors;
    mapping(address doctor => uint256 key) internal keyOf;

    function setUp() public virtual {
        vm.warp(START);
        registry = new DoctorRegistry(admin, issuer);
        market = new DiagnosisMarket(admin, IDoctorRegistry(address(registry)));
        rep = ReputationToken(market.reputation());
        usdc = new MockStablecoin();
        feeToken = new FeeOnTransferToken();

        vm.startPrank(admin);
        market.setTokenAllowed(address(usdc), true);
        market.setTokenAllowed(address(feeToken), true);
        market.setMinReputationBounty(address(usdc), MIN_REP_BOUNTY);
        vm.stopPrank();

        _accreditHospital(hospital);
        _fund(hospital);
        for (uint256 i; i < NUM_DOCTORS; ++i) {
            (address doctor, uint256 key) = makeAddrAndKey(string.concat("doctor", vm.toString(i)));
            doctors.push(doctor);
            keyOf[doctor] = key;
            _accredit(doctor);
            _fund(doctor);
        }
    }

    // ------------------------------------------------------------------ actors

    function _fund(address account) internal {
        usdc.mint(account, 1_000_000e6);
        feeToken.mint(account, 1_000_000e6);
        vm.startPrank(account);
        usdc.approve(address(market), type(uint256).max);
        feeToken.approve(address(market), type(uint256).max);
        vm.stopPrank();
    }

    /// @dev Accredits `doctor` for a year and publishes an encryption key derived from its name.
    function _accredit(address doctor) internal {
        vm.prank(issuer);
        registry.accredit(
            doctor, keccak256(abi.encode("licence", doctor)), uint64(block.timestamp + 365 days)
        );
        vm.prank(doctor);
        registry.setEncryptionKey(keccak256(abi.encode("x25519", doctor)));
    }

    /// @dev Accredits `account` as a hospital for a year.
    function _accreditHospital(address account) internal {
        vm.prank(issuer);
        registry.accreditHospital(
            account, keccak256(abi.encode("hospital licence", account)), uint64(block.timestamp + 365 days)
        );
    }

    /// @dev Reputation earned elsewhere, minted as the market would.
    function _mintRep(address account, uint256 amount) internal {
        address[] memory accounts = new address[](1);
        accounts[0] = account;
        vm.prank(address(market));
        rep.mintBatch(accounts, amount);
    }

    // ------------------------------------------------------------------- tasks

    function _params(uint8 seats, uint8 quorum) internal view returns (IDiagnosisMarket.TaskParams memory p) {
        p = IDiagnosisMarket.TaskParams({
            scanCid: SCAN_CID,
            token: address(usdc),
            bounty: BOUNTY,
            stakePerSeat: STAKE,
            minReputation: 0,
            commitDeadline: uint40(block.timestamp + COMMIT_WINDOW),
            revealDeadline: uint40(block.timestamp + COMMIT_WINDOW + REVEAL_WINDOW),
            predictedClass: 1,
            confidenceBps: 6_200,
            numClasses: NUM_CLASSES,
            seats: seats,
            quorum: quorum
        });
    }

    function _post(IDiagnosisMarket.TaskParams memory p) internal returns (uint256 taskId) {
        vm.prank(hospital);
        taskId = market.postTask(p);
    }

    /// @dev A 5-seat task with quorum 3.
    function _postDefault() internal returns (uint256) {
        return _post(_params(5, 3));
    }

    function _claim(uint256 taskId, address doctor) internal {
        vm.prank(doctor);
        market.claimSeat(taskId);
    }

    /// @dev Seats the first `n` doctors.
    function _claimFirst(uint256 taskId, uint256 n) internal {
        for (uint256 i; i < n; ++i) {
            _claim(taskId, doctors[i]);
        }
    }

    /// @dev The doctor's salt: a hash of its signature over typed data for the task, so a wallet
    /// can recover it on any device.
    function _salt(uint256 taskId, address doctor) internal view returns (bytes32) {
        bytes32 digest = keccak256(abi.encode(SALT_TYPEHASH, taskId, address(market)));
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(keyOf[doctor], digest);
        return keccak256(abi.encodePacked(r, s, v));
    }

    /// @dev Commitment v2, computed independently of the market: bound to the chain and the market.
    function _commitmentFor(uint256 taskId, address doctor, uint8 diagnosis) internal view returns (bytes32) {
        return keccak256(
            abi.encode(block.chainid, address(market), taskId, doctor, diagnosis, _salt(taskId, doctor))
        );
    }

    function _commit(uint256 taskId, address doctor, uint8 diagnosis) internal {
        bytes32 c = _commitmentFor(taskId, doctor, diagnosis);
        vm.prank(doctor);
        market.commit(taskId, c);
    }

    function _reveal(uint256 taskId, address doctor, uint8 diagnosis) internal {
        bytes32 salt = _salt(taskId, doctor);
        vm.prank(doctor);
        market.reveal(taskId, diagnosis, salt);
    }

    /// @dev Seats doctors[0..votes.length) and commits their votes; the reveal phase then opens
    /// early if every seat committed.
    function _seatAndCommit(uint256 taskId, uint8[] memory votes) internal {
        _claimFirst(taskId, votes.length);
        for (uint256 i; i < votes.length; ++i) {
            _commit(taskId, doctors[i], votes[i]);
        }
    }

    function _revealAll(uint256 taskId, uint8[] memory votes) internal {
        for (uint256 i; i < votes.length; ++i) {
            _reveal(taskId, doctors[i], votes[i]);
        }
    }

    function _finalize(uint256 taskId) internal {
        market.finalize(taskId);
    }

    function _toCommitDeadline(uint256 taskId) internal {
        vm.warp(market.getTask(taskId).commitDeadline);
    }

    function _toRevealDeadline(uint256 taskId) internal {
        vm.warp(market.getTask(taskId).revealDeadline);
    }

    function _votes5(uint8 a, uint8 b, uint8 c, uint8 d, uint8 e) internal pure returns (uint8[] memory v) {
        v = new uint8[](5);
        (v[0], v[1], v[2], v[3], v[4]) = (a, b, c, d, e);
    }

    function _credit(address account) internal view returns (uint256) {
        return market.creditOf(account, address(usdc));
    }

    function _phase(uint256 taskId) internal view returns (IDiagnosisMarket.Phase) {
        return market.phaseOf(taskId);
    }
}
