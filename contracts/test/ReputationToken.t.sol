// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Test} from "forge-std/Test.sol";

import {ReputationToken} from "../src/ReputationToken.sol";
import {IReputationToken} from "../src/interfaces/IReputationToken.sol";

contract ReputationTokenTest is Test {
    ReputationToken internal rep;
    address internal admin = makeAddr("admin");
    address internal minter = makeAddr("market");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    function setUp() public {
        rep = new ReputationToken(admin);
        bytes32 role = rep.MINTER_ROLE();
        vm.prank(admin);
        rep.grantRole(role, minter);
    }

    function test_metadata() public view {
        assertEq(rep.name(), "CrypDoc Reputation");
        assertEq(rep.symbol(), "CDREP");
        assertEq(rep.decimals(), 0);
        assertEq(rep.totalSupply(), 0);
        assertEq(rep.MINTER_ROLE(), keccak256("MINTER_ROLE"));
        assertTrue(rep.hasRole(rep.DEFAULT_ADMIN_ROLE(), admin));
    }

    // ------------------------------------------------------------------- mint

    function test_mint_addsAndEmits() public {
        vm.expectEmit(address(rep));
        emit IReputationToken.Transfer(address(0), alice, 5);
        vm.prank(minter);
        rep.mint(alice, 5);
        assertEq(rep.balanceOf(alice), 5);
        assertEq(rep.totalSupply(), 5);
    }

    function test_mint_revertsWhen_notMinter() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, alice, rep.MINTER_ROLE()
            )
        );
        vm.prank(alice);
        rep.mint(alice, 1);
    }

    function test_mint_revertsWhen_zeroAccount() public {
        vm.expectRevert(IReputationToken.ZeroAccount.selector);
        vm.prank(minter);
        rep.mint(address(0), 1);
    }

    // -------------------------------------------------------------- mintBatch

    function test_mintBatch_addsToEachAndEmits() public {
        address[] memory accounts = new address[](2);
        (accounts[0], accounts[1]) = (alice, bob);
        vm.expectEmit(address(rep));
        emit IReputationToken.Transfer(address(0), alice, 3);
        vm.expectEmit(address(rep));
        emit IReputationToken.Transfer(address(0), bob, 3);
        vm.prank(minter);
        rep.mintBatch(accounts, 3);
        assertEq(rep.balanceOf(alice), 3);
        assertEq(rep.balanceOf(bob), 3);
        assertEq(rep.totalSupply(), 6);
    }

    function test_mintBatch_emptyIsNoop() public {
        vm.prank(minter);
        rep.mintBatch(new address[](0), 3);
        assertEq(rep.totalSupply(), 0);
    }

    function test_mintBatch_revertsWhen_notMinter() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, admin, rep.MINTER_ROLE()
            )
        );
        vm.prank(admin);
        rep.mintBatch(new address[](1), 1);
    }

    function test_mintBatch_revertsWhen_zeroAccount() public {
        address[] memory accounts = new address[](2);
        accounts[0] = alice;
        vm.expectRevert(IReputationToken.ZeroAccount.selector);
        vm.prank(minter);
        rep.mintBatch(accounts, 1);
    }

    // ------------------------------------------------------------------- burn

    function test_burn_removesAndEmits() public {
        vm.startPrank(minter);
        rep.mint(alice, 5);
        vm.expectEmit(address(rep));
        emit IReputationToken.Transfer(alice, address(0), 2);
        rep.burn(alice, 2);
        vm.stopPrank();
        assertEq(rep.balanceOf(alice), 3);
        assertEq(rep.totalSupply(), 3);
    }

    function test_burn_revertsWhen_notMinter() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, alice, rep.MINTER_ROLE()
            )
        );
        vm.prank(alice);
        rep.burn(alice, 0);
    }

    function test_burn_revertsWhen_zeroAccount() public {
        vm.expectRevert(IReputationToken.ZeroAccount.selector);
        vm.prank(minter);
        rep.burn(address(0), 0);
    }

    function test_burn_revertsWhen_exceedsBalance() public {
        vm.startPrank(minter);
        rep.mint(alice, 2);
        vm.expectRevert(abi.encodeWithSelector(IReputationToken.BurnExceedsBalance.selector, alice, 2, 3));
        rep.burn(alice, 3);
        vm.stopPrank();
    }

    // ------------------------------------------------------ non-transferable

    function test_transfer_revertsWhen_called() public {
        vm.prank(minter);
        rep.mint(alice, 5);
        vm.expectRevert(IReputationToken.ReputationNonTransferable.selector);
        vm.prank(alice);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        rep.transfer(bob, 1);
        assertEq(rep.balanceOf(alice), 5);
        assertEq(rep.balanceOf(bob), 0);
    }

    function test_transferFrom_revertsWhen_called() public {
        vm.prank(minter);
        rep.mint(alice, 5);
        vm.expectRevert(IReputationToken.ReputationNonTransferable.selector);
        vm.prank(bob);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        rep.transferFrom(alice, bob, 1);
    }

    function test_approve_revertsWhen_called() public {
        vm.expectRevert(IReputationToken.ReputationNonTransferable.selector);
        vm.prank(alice);
        rep.approve(bob, 1);
        assertEq(rep.allowance(alice, bob), 0);
    }

    function testFuzz_transfer_alwaysReverts(address from, address to, uint256 amount) public {
        vm.prank(minter);
        rep.mint(alice, 10);
        vm.startPrank(from);
        vm.expectRevert(IReputationToken.ReputationNonTransferable.selector);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        rep.transfer(to, amount);
        vm.expectRevert(IReputationToken.ReputationNonTransferable.selector);
        // forge-lint: disable-next-line(erc20-unchecked-transfer)
        rep.transferFrom(alice, to, amount);
        vm.expectRevert(IReputationToken.ReputationNonTransferable.selector);
        rep.approve(to, amount);
        vm.stopPrank();
        assertEq(rep.allowance(alice, to), 0);
        assertEq(rep.balanceOf(alice), 10);
    }

    function testFuzz_mintBurn_supplyTracksBalances(uint128 a, uint128 b, uint128 burnA) public {
        burnA = uint128(bound(burnA, 0, a));
        vm.startPrank(minter);
        rep.mint(alice, a);
        rep.mint(bob, b);
        rep.burn(alice, burnA);
        vm.stopPrank();
        assertEq(rep.totalSupply(), uint256(a) + b - burnA);
        assertEq(rep.balanceOf(alice) + rep.balanceOf(bob), rep.totalSupply());
    }
}
